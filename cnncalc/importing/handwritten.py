"""Models written by hand the ways people write them, which `cnncalc coverage handwritten` reads beside
the libraries' (`cnncalc table handwritten:EinopsViT`): einops, functional calls on parameters the
module declares, a learned token and position table, a model of two inputs, token ids, a shared
tower called twice, attention written out (nanoGPT's), torch's encoder given masks, an LSTM's final
states, a loop of a recurrent cell, a spatial transformer, lazy modules (d2l.ai's). Each is small and states
its inputs; nothing is downloaded."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..graph import OtherInput


class EinopsViT(nn.Module):
    """A vision transformer as einops users write it: patches by Rearrange, heads by rearrange, a
    class token expanded to the batch, position embeddings added, attention by hand, mean pooling by
    reduce."""

    def __init__(self, side: int = 32, patch: int = 8, dim: int = 64, depth: int = 2, heads: int = 4,
                 classes: int = 10):
        from einops.layers.torch import Rearrange

        super().__init__()
        self.heads = heads
        self.to_patches = nn.Sequential(Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=patch, p2=patch),
                                        nn.Linear(3 * patch * patch, dim))
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.zeros(1, (side // patch) ** 2 + 1, dim))
        self.blocks = nn.ModuleList(nn.ModuleDict({"norm1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim),
                                                   "proj": nn.Linear(dim, dim), "norm2": nn.LayerNorm(dim),
                                                   "fc1": nn.Linear(dim, 2 * dim), "fc2": nn.Linear(2 * dim, dim)})
                                    for _ in range(depth))
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        from einops import rearrange, reduce

        x = self.to_patches(image)
        x = torch.cat((self.cls.expand(x.shape[0], -1, -1), x), dim=1) + self.position
        for block in self.blocks:
            q, k, v = rearrange(block["qkv"](block["norm1"](x)), "b n (three h d) -> three b h n d", three=3,
                                h=self.heads)
            attention = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)
            x = x + block["proj"](rearrange(attention @ v, "b h n d -> b n (h d)"))
            x = x + block["fc2"](F.gelu(block["fc1"](block["norm2"](x))))
        return self.head(reduce(x, "b n d -> b d", "mean"))


class FunctionalCNN(nn.Module):
    """LeNet with its weights declared as parameters and every step a functional call."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv1 = nn.Parameter(torch.randn(6, 1, 5, 5) * 0.1)
        self.conv1_bias = nn.Parameter(torch.zeros(6))
        self.conv2 = nn.Parameter(torch.randn(16, 6, 5, 5) * 0.1)
        self.fc = nn.Parameter(torch.randn(classes, 16 * 4 * 4) * 0.1)
        self.fc_bias = nn.Parameter(torch.zeros(classes))

    def forward(self, x):
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv1, self.conv1_bias)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, self.conv2)), 2)
        return torch.flatten(x, 1) @ self.fc.t() + self.fc_bias


class ImageAndMask(nn.Module):
    """Two inputs: features of an image gated by a mask resized to them, then a skip to full size."""

    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.middle = nn.Conv2d(16, 16, 3, padding=1)
        self.out = nn.Conv2d(16 + 3, 2, 1)

    def forward(self, image, mask):
        features = self.down(image)
        features = self.middle(features * F.interpolate(mask, size=features.shape[-2:], mode="nearest"))
        up = F.interpolate(features, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out(torch.cat((up, image), dim=1))


class TextClassifier(nn.Module):
    """Token ids through an embedding, a learned position table sliced to the length, torch's encoder
    layers, mean pooling and a head."""

    def __init__(self, vocabulary: int = 1000, length: int = 128, dim: int = 64, classes: int = 4):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, dim)
        self.position = nn.Parameter(torch.zeros(length, dim))
        layer = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=2 * dim, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids):
        x = self.tokens(ids) + self.position[: ids.shape[1]]
        return self.head(self.encoder(x).mean(dim=1))


class SharedTower(nn.Module):
    """A siamese pair: one tower called on two images (its weights held once), their embeddings
    normalized and compared."""

    def __init__(self, dim: int = 32):
        super().__init__()
        self.tower = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                                   nn.Conv2d(16, dim, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten())
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, first, second):
        a = F.normalize(self.tower(first), dim=1)
        b = F.normalize(self.tower(second), dim=1)
        return (a * b).sum(dim=1) * self.scale


class CausalLM(nn.Module):
    """A GPT as nanoGPT writes it: token and position tables, attention by hand (q·kᵀ scaled, masked
    to -inf by a causal buffer, softmax, times v), a tanh-approximate GELU MLP, the output head tied
    to the token table."""

    def __init__(self, vocabulary: int = 256, length: int = 64, dim: int = 64, heads: int = 4, depth: int = 2):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocabulary, dim), nn.Embedding(length, dim)
        self.blocks = nn.ModuleList(nn.ModuleDict({"norm1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim),
                                                   "proj": nn.Linear(dim, dim), "norm2": nn.LayerNorm(dim),
                                                   "fc": nn.Linear(dim, 4 * dim), "out": nn.Linear(4 * dim, dim)})
                                    for _ in range(depth))
        self.norm, self.head, self.heads = nn.LayerNorm(dim), nn.Linear(dim, vocabulary, bias=False), heads
        self.head.weight = self.tokens.weight
        self.register_buffer("causal", torch.tril(torch.ones(length, length)).view(1, 1, length, length))

    def forward(self, ids):
        batch, length = ids.size()
        x = self.tokens(ids) + self.positions(torch.arange(length, device=ids.device))
        for block in self.blocks:
            q, k, v = block["qkv"](block["norm1"](x)).split(x.size(-1), dim=2)
            q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            scores = scores.masked_fill(self.causal[:, :, :length, :length] == 0, float("-inf"))
            y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).contiguous().view(batch, length, -1)
            x = x + block["proj"](y)
            x = x + block["out"](F.gelu(block["fc"](block["norm2"](x)), approximate="tanh"))
        return self.head(self.norm(x))


class MaskedEncoder(nn.Module):
    """A language model as PyTorch's tutorials write it: token ids through torch's encoder given a causal
    mask (nn.Transformer.generate_square_subsequent_mask) and which tokens are padding, forward()'s
    second input."""

    def __init__(self, vocabulary: int = 512, dim: int = 64, heads: int = 4, depth: int = 2):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, vocabulary)

    def forward(self, ids, padding):
        causal = nn.Transformer.generate_square_subsequent_mask(ids.shape[1], device=ids.device)
        return self.head(self.encoder(self.tokens(ids), mask=causal, src_key_padding_mask=padding, is_causal=True))


class SentimentLSTM(nn.Module):
    """A text classifier as bentrevett's tutorials write it: token ids, an embedding, a two-layer bidirectional
    LSTM whose last layer's final hidden states, both directions, are joined and classified."""

    def __init__(self, vocabulary: int = 1000, dim: int = 64, hidden: int = 64, classes: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, bidirectional=True, batch_first=True, dropout=0.5)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, ids):
        _, (hidden, _) = self.lstm(self.embedding(ids))
        return self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1))


class Seq2Seq(nn.Module):
    """An encoder-decoder as PyTorch's translation tutorial writes it: a GRU encodes the source ids, its final
    state starts a GRUCell that loops over the target ids (teacher forcing), each step projected to the
    vocabulary."""

    def __init__(self, vocabulary: int = 500, dim: int = 64, hidden: int = 128):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, dim)
        self.encoder, self.decoder = nn.GRU(dim, hidden, batch_first=True), nn.GRUCell(dim, hidden)
        self.out = nn.Linear(hidden, vocabulary)

    def forward(self, source, target):
        _, hidden = self.encoder(self.embedding(source))
        state, steps = hidden[0], []
        for token in self.embedding(target).unbind(1):
            state = self.decoder(token, state)
            steps.append(self.out(state))
        return torch.stack(steps, 1)


class SpatialTransformer(nn.Module):
    """PyTorch's spatial transformer tutorial, as it writes it: a small network reads an affine matrix off the
    digit, F.affine_grid makes the grid it maps to and F.grid_sample resamples the digit at it, and a LeNet
    classifies what comes out."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 10, kernel_size=5), nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)
        self.localization = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                                          nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

    def stn(self, x):
        theta = self.fc_loc(self.localization(x).view(-1, 10 * 3 * 3)).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(self.stn(x)), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = F.dropout(F.relu(self.fc1(x.view(-1, 320))), training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)


class LazyLeNet(nn.Module):
    """LeNet as d2l.ai's book writes it (its batch-normalized one, section 8.5): lazy layers, each sized by the
    model's first call (nn.LazyConv2d, nn.LazyBatchNorm2d, nn.LazyLinear)."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5), nn.LazyBatchNorm2d(), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d(), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(), nn.LazyLinear(120), nn.LazyBatchNorm1d(), nn.Sigmoid(),
            nn.LazyLinear(84), nn.LazyBatchNorm1d(), nn.Sigmoid(), nn.LazyLinear(classes))

    def forward(self, x):
        return self.net(x)


@dataclass(frozen=True, kw_only=True)
class Written:
    """A hand-written model, what way of writing it shows, the input it states, and the library its
    code imports, if any."""
    build: type[nn.Module]
    shows: str
    input_shape: tuple[int, ...]
    input_dtype: str | None = None
    others: tuple[OtherInput, ...] = ()
    needs: str | None = None


HANDWRITTEN = {
    "EinopsViT": Written(build=EinopsViT, shows="einops", input_shape=(3, 32, 32), needs="einops"),
    "FunctionalCNN": Written(build=FunctionalCNN, shows="functional", input_shape=(1, 28, 28)),
    "ImageAndMask": Written(build=ImageAndMask, shows="two inputs", input_shape=(3, 64, 64),
                            others=(OtherInput(name="mask", shape=(1, 64, 64)),)),
    "TextClassifier": Written(build=TextClassifier, shows="token ids", input_shape=(128,), input_dtype="int64"),
    "SharedTower": Written(build=SharedTower, shows="a shared tower", input_shape=(3, 32, 32),
                           others=(OtherInput(name="second", shape=(3, 32, 32)),)),
    "CausalLM": Written(build=CausalLM, shows="attention by hand", input_shape=(64,), input_dtype="int64"),
    "MaskedEncoder": Written(build=MaskedEncoder, shows="attention masks", input_shape=(32,), input_dtype="int64",
                             others=(OtherInput(name="padding", shape=(32,), dtype="bool"),)),
    "SentimentLSTM": Written(build=SentimentLSTM, shows="recurrent states", input_shape=(40,), input_dtype="int64"),
    "Seq2Seq": Written(build=Seq2Seq, shows="a recurrent loop", input_shape=(16,), input_dtype="int64",
                       others=(OtherInput(name="target", shape=(12,), dtype="int64"),)),
    "SpatialTransformer": Written(build=SpatialTransformer, shows="a spatial transformer", input_shape=(1, 28, 28)),
    "LazyLeNet": Written(build=LazyLeNet, shows="lazy modules", input_shape=(1, 28, 28)),
}
