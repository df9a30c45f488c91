"""What the importer reads of real models' forward() code, each pattern in a small module held to
torch: parameters and buffers as the module holds them, MACs as FlopCounterMode counts them on the
meta device (÷ 2), and the output's shape (cnncalc.verify.coverage.measure)."""
from __future__ import annotations

import functools
import math

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.graph import OtherInput  # noqa: E402
from cnncalc.importing.handwritten import SentimentLSTM  # noqa: E402
from cnncalc.verify.coverage import measure  # noqa: E402


class Conv3DSimple(nn.Conv3d):
    """torchvision's video stem: a Conv3d subclass that keeps Conv3d's forward."""


class Subclassed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = Conv3DSimple(3, 8, (1, 3, 3), padding=(0, 1, 1))

    def forward(self, x):
        return self.conv(x)


class Segmentation(nn.Module):
    """torchvision's FCN head: back to the input's size with the size read from the input."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, stride=4, padding=1)

    def forward(self, x):
        size = x.shape[-2:]
        return F.interpolate(self.conv(x), size=size, mode="bilinear", align_corners=False)


class Shuffle(nn.Module):
    """torchvision's ShuffleNetV2 unit: chunk, a branch, cat, and a channel shuffle by view/transpose."""

    def __init__(self):
        super().__init__()
        self.branch = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        x = torch.cat((x1, self.branch(x2)), dim=1)
        batch, channels, height, width = x.size()
        x = x.view(batch, 2, channels // 2, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, -1, height, width)


class Tokens(nn.Module):
    """torchvision's ViT: patches, a class token and position embedding, attention, the class token out."""

    def __init__(self, dim: int = 32):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, stride=8)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.zeros(1, 17, dim))
        self.attention = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        n = x.shape[0]
        x = self.patch(x).reshape(n, 32, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1) + self.position
        x, _ = self.attention(x, x, x, need_weights=False)
        return self.head(x[:, 0])


class LayerNorm2d(nn.LayerNorm):
    """torchvision's ConvNeXt norm: channels last, F.layer_norm with its own weights, channels first."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int = 16):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = LayerNorm2d(dim)
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1))
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.layer_scale * self.norm(self.dwconv(x))
        return x + y * self.gamma.reshape(1, -1, 1, 1)


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's norm + activation: a BatchNorm2d whose forward calls F.batch_norm, then its act."""

    def __init__(self, channels: int):
        super().__init__(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, self.momentum,
                         self.eps)
        return self.act(x)


class OwnWeights(nn.Module):
    """Functions given the module's own parameters: F.conv2d, the norm above, F.linear, F.group_norm."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.norm = BatchNormAct2d(8)
        self.group_weight, self.group_bias = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))
        self.fc_weight = nn.Parameter(torch.randn(4, 8))
        self.fc_bias = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        x = self.norm(F.conv2d(x, self.weight, None, 1, 1))
        x = F.group_norm(x, 2, self.group_weight, self.group_bias)
        return F.linear(x.mean((2, 3)), self.fc_weight, self.fc_bias)


class Attention(nn.Module):
    """timm's Attention: qkv reshaped and permuted with the batch second, unbound, fused attention;
    and the written-out form (scores by matmul, softmax)."""

    def __init__(self, dim: int = 32, heads: int = 4, fused: bool = True):
        super().__init__()
        self.heads, self.fused = heads, fused
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        batch, tokens, channels = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, channels // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if self.fused:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            x = ((q * 0.25) @ k.transpose(-2, -1)).softmax(dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(batch, tokens, channels))


class Arithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        y = 2 * (y * 0.5 + 1) / 6 - 1
        y = torch.square(y).float() + y ** 3 + y.pow(y)
        y = F.pad(F.pad(y, (1, 1, 2, 2)), (1, 0, 0, 2), mode="reflect")
        y = F.normalize(F.pad(y, (2, 2, 0, 1), mode="replicate"), dim=1)
        return torch.stack([y, y * 2], dim=1).unsqueeze(1).squeeze(1)


class Gate(nn.Module):
    """timm's ECA gate (y.expand_as(x)), a reshape_as back, and a tile of channels (x.repeat)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv(x.mean((2, 3)).view(x.shape[0], 1, -1)).view(x.shape[0], -1, 1, 1).sigmoid()
        z = (x * y.expand_as(x)).flatten(2).reshape_as(x)
        return z.repeat(1, 2, 1, 1)


class Windows(nn.Module):
    """Swin's shifted windows: the batch holds B·nW windows; a roll, a mask filled in place, a crop."""

    def __init__(self, dim: int = 8, window: int = 4, heads: int = 2):
        super().__init__()
        self.window, self.heads = window, heads
        self.norm, self.qkv, self.proj = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.bias = nn.Parameter(torch.zeros(heads, window * window, window * window))

    def forward(self, x):
        x = self.norm(x.permute(0, 2, 3, 1))
        B, H, W, C = x.shape
        w = self.window
        x = F.pad(x, (0, 0, 0, (w - W % w) % w, 0, (w - H % w) % w))
        _, Hp, Wp, _ = x.shape
        x = torch.roll(x, shifts=(-1, -1), dims=(1, 2))
        x = x.view(B, Hp // w, w, Wp // w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        qkv = self.qkv(x).reshape(x.size(0), w * w, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) + self.bias
        mask = x.new_zeros((Hp, Wp))
        mask[-1:, :] = 1
        mask = mask.view(Hp // w, w, Wp // w, w).permute(0, 2, 1, 3).reshape(-1, w * w)
        attn = attn.view(B, -1, self.heads, w * w, w * w) + (mask.unsqueeze(1) - mask.unsqueeze(2)).unsqueeze(1)
        x = (attn.view(-1, self.heads, w * w, w * w).softmax(dim=-1) @ v).transpose(1, 2).reshape(-1, w * w, C)
        x = self.proj(x).view(B, Hp // w, Wp // w, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, C)
        return x[:, :H, :W, :].permute(0, 3, 1, 2)


class Reused(nn.Module):
    """One conv called twice and a gate read twice (each held once), control flow on sizes, every other
    pixel, a -inf pad."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.stem = nn.Conv2d(3, 4, 1)
        self.gate = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        x = self.conv(self.conv(self.stem(x)))
        x = x * self.gate.view(1, -1, 1, 1) + x * self.gate.reshape(1, -1, 1, 1)
        if x.shape[-1] % 2:  # timm's same padding: sizes decide the path
            x = F.pad(x, (0, 1, 0, 1), value=float("-inf"))
        x = F.max_pool2d(x, 2) + x[..., 1::2, ::2]
        return x[:, :, :int(math.sqrt(x.shape[-2] ** 2))]


class Ensemble(nn.Module):
    """Heads stacked and averaged (CrossViT), a query repeated per window (GCViT), relative positions by
    einsum (MViT), heads weighed by one number each (EfficientViM's softmax of a parameter)."""

    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(6, 5), nn.Linear(6, 5)])
        self.rel = nn.Parameter(torch.zeros(4, 3, 6))
        self.mix = nn.Parameter(torch.zeros(2))

    def forward(self, x):
        rows = x.repeat_interleave(4, dim=0).view(x.shape[0], 4, 6)
        x = x + torch.einsum("bqd,qkd->bqk", rows, self.rel).sum(1).mean(-1, keepdim=True)
        weights = self.mix.softmax(0)
        return torch.stack([head(x) * weights[i] for i, head in enumerate(self.heads)], dim=0).mean(0)


class BiasMLP(nn.Module):
    """Swin v2's position bias: an MLP on a buffer of coordinates, gathered by a buffer of positions
    (table[index]), added to the attention of windows (the batch holding two halves per sample)."""

    def __init__(self, dim: int = 8, heads: int = 2, n: int = 4):
        super().__init__()
        self.register_buffer("coords", torch.zeros(1, 2 * n - 1, 2))
        self.register_buffer("index", torch.zeros(n * n, dtype=torch.long))
        self.mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, heads))
        self.qk = nn.Linear(dim, 2 * dim)
        self.heads, self.n = heads, n

    def forward(self, x):
        B, L, C = x.shape
        q, k = self.qk(x.reshape(B * 2, self.n, C)).chunk(2, dim=-1)
        q = q.view(-1, self.n, self.heads, C // self.heads).transpose(1, 2)
        attn = q @ k.view(-1, self.n, self.heads, C // self.heads).permute(0, 2, 3, 1)
        bias = self.mlp(self.coords).view(-1, self.heads)[self.index].view(self.n, self.n, -1).permute(2, 0, 1)
        attn = attn + 16 * torch.sigmoid(bias.unsqueeze(0))
        return attn.softmax(-1).reshape(B, -1)


class HeadPool(nn.Module):
    """MViT's pooled attention: heads moved into the batch, one conv pooling each head's map, and a
    position embedding added in place."""

    def __init__(self, dim: int = 8, heads: int = 2, pooled: int = 4):
        super().__init__()
        self.heads = heads
        self.pool = nn.Conv2d(dim // heads, dim // heads, 3, stride=2, padding=1, groups=dim // heads)
        self.norm = nn.LayerNorm(dim // heads)
        self.pos = nn.Parameter(torch.zeros(1, dim, pooled, pooled))

    def forward(self, x):
        B, C, H, W = x.shape
        rows = x.reshape(B * self.heads, C // self.heads, H, W)
        pooled = self.norm(self.pool(rows).flatten(2).transpose(1, 2))
        y = pooled.transpose(1, 2).reshape(B, C, H // 2, W // 2)
        y.add_(self.pos)
        return y


class Patches(nn.Module):
    """VOLO's and TNT's patches (unfold, fold), BoTNet's expand on rows of heads, x.max(1)[0]."""

    def __init__(self):
        super().__init__()
        self.unfold = nn.Unfold(kernel_size=3, padding=1, stride=2)
        self.proj = nn.Linear(36, 36)

    def forward(self, x):
        cols = self.proj(self.unfold(x).transpose(1, 2)).transpose(1, 2)
        y = F.fold(cols, output_size=x.shape[-2:], kernel_size=3, padding=1, stride=2)
        rows = y.reshape(-1, 1, 4, 8).expand(-1, 3, -1, -1)
        return rows.reshape(x.shape[0], -1, 8).max(1)[0]


class BlurPool(nn.Module):
    """timm's blur pool (TResNet): a fixed filter kept as a buffer, applied with F.conv2d."""

    def __init__(self):
        super().__init__()
        self.register_buffer("filt", torch.ones(4, 1, 3, 3) / 9)

    def forward(self, x):
        return F.conv2d(x, self.filt, stride=2, groups=4)


class StandardizedConv(nn.Conv2d):
    """timm's ScaledStdConv2d (NFNets): filters standardized in forward() and scaled by a gain."""

    def __init__(self):
        super().__init__(4, 6, 3, padding=1)
        self.gain = nn.Parameter(torch.ones(6, 1, 1, 1))

    def forward(self, x):
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                              weight=(self.gain * 0.5).view(-1), training=True, momentum=0.0, eps=1e-6)
        return F.conv2d(x, weight.reshape_as(self.weight), self.bias, self.stride, self.padding)


class Standardized(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.blur = StandardizedConv(), BlurPool()

    def forward(self, x):
        return self.blur(self.conv(x)[:, :4])


class Sequencer(nn.Module):
    """timm's Sequencer2d: a bidirectional LSTM along each row of a channels-last map, rows in the batch."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(6, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(10, 6)

    def forward(self, x):
        B, H, W, C = x.shape
        rows, _ = self.rnn(x.reshape(-1, W, C))
        return self.fc(rows.reshape(B, H, W, -1))


class DecomposedAttention(nn.Module):
    """SAM's attention: the heads merged into the batch before q, k and v are taken, and a relative
    position bias made with einsum and new dims indexed in (rel_h[:, :, :, :, None])."""

    def __init__(self, dim: int = 16, heads: int = 2, size: int = 4):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.rel_h = nn.Parameter(torch.randn(2 * size - 1, dim // heads))
        self.rel_w = nn.Parameter(torch.randn(2 * size - 1, dim // heads))

    def forward(self, x):
        B, H, W, _ = x.shape
        N = H * W
        qkv = self.qkv(x.reshape(B, N, -1)).view(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, B * self.heads, N, -1).unbind(0)
        index = torch.arange(H)[:, None] - torch.arange(H)[None, :] + H - 1
        r_q = q.reshape(B * self.heads, H, W, -1)
        rel_h = torch.einsum("bhwc,hkc->bhwk", r_q, self.rel_h[index])
        rel_w = torch.einsum("bhwc,wkc->bhwk", r_q, self.rel_w[index])
        bias = (rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).reshape(-1, N, N)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x.view(B, self.heads, N, -1).transpose(1, 2).reshape(B, N, -1)
        return self.proj(x).view(B, H, W, -1)


class LookupBias(nn.Module):
    """timm's RelPosBiasTf (MaxViT's TF weights): a position bias made each forward pass by einsum of a
    table and one-hot lookups, sized by the table (2 heads, as many as the traced batch), added to
    the attention scores. The einsums are work torch counts once per batch."""

    def __init__(self, heads: int = 2, window: int = 3, dim: int = 8):
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Linear(dim, 3 * dim)
        self.table = nn.Parameter(torch.randn(heads, 2 * window - 1, 2 * window - 1))
        lookup = torch.zeros(window, window, 2 * window - 1)
        for i in range(window):
            for j in range(window):
                lookup[i, j, i - j + window - 1] = 1
        self.register_buffer("height_lookup", lookup)
        self.register_buffer("width_lookup", lookup.clone())

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        bias = torch.einsum("nhw,ixh->nixw", self.table, self.height_lookup)
        bias = torch.einsum("nixw,jyw->nijxy", bias, self.width_lookup)
        bias = bias.reshape(self.table.shape[0], N, N)
        attn = (q @ k.transpose(-2, -1) + bias).softmax(-1)
        return (attn @ v).transpose(1, 2).reshape(B, N, C)


class ResponseNormBlock(nn.Module):
    """ConvNeXt V2's block: a depthwise conv, then channels last with timm's global response norm
    (x.norm over the spatial dims, torch.addcmul with its weight and bias)."""

    def __init__(self, channels: int = 8):
        super().__init__()
        self.dwconv = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        self.weight, self.bias = nn.Parameter(torch.zeros(channels)), nn.Parameter(torch.zeros(channels))
        self.fc = nn.Linear(channels, channels)

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y_g = y.norm(p=2, dim=(1, 2), keepdim=True)
        y_n = y_g / (y_g.mean(dim=-1, keepdim=True) + 1e-6)
        y = y + torch.addcmul(self.bias.view(1, 1, 1, -1), self.weight.view(1, 1, 1, -1), y * y_n)
        return x + self.fc(y).permute(0, 3, 1, 2)


class Einops(nn.Module):
    """einops as vision transformers write it: a Rearrange layer to patches, rearrange into heads and
    back, a Reduce layer and reduce; and Python reading the rank (len(x.shape), x.ndim)."""

    def __init__(self):
        super().__init__()
        from einops.layers.torch import Rearrange, Reduce

        self.to_patches = Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=4, p2=4)
        self.proj = nn.Linear(48, 32)
        self.pool = Reduce("b n d -> b d", "mean")

    def forward(self, x):
        from einops import rearrange, reduce

        assert len(x.shape) == 4 and x.ndim == 4
        y = rearrange(self.proj(self.to_patches(x)), "b n (h d) -> b h n d", h=4)
        y = rearrange(y.softmax(-1), "b h n d -> b n (h d)")
        return self.pool(y) + reduce(y, "b n d -> b d", "max")


class PythonOnSizes(nn.Module):
    """Python on a tensor's sizes and type, as detection heads write it: numpy on the spatial size, and
    a torch.jit.isinstance check whose branch a real run takes (under plain fx it failed and the concat
    was lost); torch.pow, which a proxy posing as a tensor crashed; a view to a size torch.div computed."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        import numpy as np

        y = self.conv(x)
        if torch.jit.isinstance(y, torch.Tensor):
            y = torch.cat([y, torch.pow(y, 3.0)], 1)
        height, width = (np.array(y.shape[-2:]) // 2).tolist()
        y = y[:, :, :height, :width].flatten(2)
        # a size given as the 0-d tensor torch.div makes of two numbers (Longformer's chunks)
        return y.view(y.size(0), torch.div(y.size(1), 4, rounding_mode="trunc"), 4, y.size(2))


class Slopes(nn.Module):
    """PReLU as a module and as F.prelu on a parameter of the model's own; clamp and clip as YOLO and
    MobileNet heads write them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.PReLU(8)
        self.shared = nn.PReLU()
        self.slope = nn.Parameter(torch.full((8,), 0.1))

    def forward(self, x):
        y = self.shared(self.act(self.conv(x)))
        y = F.prelu(y, self.slope).clamp(min=0, max=6)
        return torch.clip(y, -1.0, 1.0) + y.clip(max=2.0)


class Clippable(nn.Module):
    """timm's Gemma 4 clippable linear: clamp to 0-d buffers before and after (with the channel's own
    bounds too, a bound that broadcasts)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 5, bias=False)
        self.register_buffer("input_min", torch.tensor(-1.0))
        self.register_buffer("input_max", torch.tensor(1.0))
        self.register_buffer("output_max", torch.ones(5))

    def forward(self, x):
        return torch.clamp(self.linear(torch.clamp(x, self.input_min, self.input_max)), max=self.output_max)


class Commitment(nn.Module):
    """diffusers' VQ-VAE loss: means over every dim, the batch's too, returned beside the output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y, torch.mean((y - x) ** 2) + 0.25 * (y * x).sum()


class SequenceFirst(nn.Module):
    """CLIP's attention pool: the sequence first, (L, B, C), a mean token and positions (L, 1, C) before
    the rest, nn.MultiheadAttention(batch_first=False) asked by the first token."""

    def __init__(self, dim: int = 16):
        super().__init__()
        self.position = nn.Parameter(torch.zeros(17, dim))
        self.attention = nn.MultiheadAttention(dim, 4)

    def forward(self, x):
        x = x.flatten(2).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0) + self.position[:, None, :]
        out, _ = self.attention(x[:1], x, x, need_weights=False)
        return out.squeeze(0)


class QueryFirst(nn.Module):
    """A learned query expanded along the batch at dim 1, (1, B, C), asking a sequence-first attention."""

    def __init__(self, dim: int = 16):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(1, 1, dim))
        self.attention = nn.MultiheadAttention(dim, 4)

    def forward(self, x):
        x = x.flatten(2).transpose(1, 2).transpose(0, 1)
        query = self.query.expand(-1, x.shape[1], -1)
        return self.attention(query, x, x, need_weights=False)[0][0]


class ZeroQueries(nn.Module):
    """DETR's decoder: learned query positions repeated to the batch, the queries zeros like them, a
    projection of the zeros and attention over the image's features (HF's DetrSelfAttention)."""

    def __init__(self, dim: int = 16, queries: int = 5):
        super().__init__()
        self.positions = nn.Embedding(queries, dim)
        self.q, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x):
        memory = x.flatten(2).transpose(1, 2)
        positions = self.positions.weight.unsqueeze(0).repeat(x.shape[0], 1, 1)
        queries = torch.zeros_like(positions)
        q = self.q(queries + positions).view(x.shape[0], -1, 2, 8).transpose(1, 2)
        kv = self.v(memory).view(x.shape[0], -1, 2, 8).transpose(1, 2)
        attended = F.scaled_dot_product_attention(q, kv, kv).transpose(1, 2).reshape(x.shape[0], -1, 16)
        return attended + self.v(queries)


class Products(nn.Module):
    """Scores written q @ k and torch.matmul(q, k): ptflops patches the function, not Python's operator."""

    def forward(self, x):
        return x @ x.transpose(-2, -1) - torch.matmul(x, x.transpose(-2, -1))


def test_the_ptflops_convention_counts_the_product_form_ptflops_sees():
    from conftest import peer_total

    pytest.importorskip("ptflops")
    x = torch.randn(1, 6, 4)
    ops = cnncalc.summary(Products(), (6, 4), convention="ptflops").totals.ops
    assert ops == peer_total("ptflops", Products(), (x,)) == 6 * 4 * 6  # torch.matmul's alone


class BatchIntoRows(nn.Module):
    """MViT's relative positions in time: the sequence first, then the batch merged into the next dims,
    (T, B·N·C), which holds no sample's shape."""

    def forward(self, x):
        return x.permute(1, 0, 2).reshape(x.shape[1], -1).sum(0)


def test_the_batch_merged_after_the_sequence_is_not_counted_never_a_made_up_shape():
    summary = cnncalc.summary(BatchIntoRows(), (6, 5))
    assert [(row.name, row.kind) for row in summary.layers[1:3]] == [("permute", "permute"), ("reshape", "uncounted")]


class AcrossSamples(nn.Module):
    """csatv2's scalar attention: q and k of (B, N) each, so q @ k.transpose(-1, -2) is (B, B), a score for
    every pair of samples, B² · N products where a sample's table would say B · N."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(1, 3, bias=False)

    def forward(self, x):
        q, k, v = self.qkv(x).unbind(-1)
        return ((q @ k.transpose(-1, -2)).softmax(dim=-1) @ v).unsqueeze(-1)


def test_products_that_mix_the_samples_are_rows_not_counted():
    summary = cnncalc.summary(AcrossSamples(), (7, 1))
    truth = measure(AcrossSamples(), (7, 1))
    assert [(row.name, row.kind) for row in summary.layers[-5:]] == [
        ("transpose", "uncounted"), ("matmul", "uncounted"), ("softmax", "uncounted"), ("matmul(2)", "uncounted"),
        ("unsqueeze", "unsqueeze")]
    outputs = frozenset(row.output_shape for row in summary.report.output_rows)
    assert (summary.totals.params, outputs) == (truth.params, truth.output_shapes)
    assert summary.totals.macs < truth.macs  # the products left out, as the totals say
    assert summary.totals.uncounted


class TextEncoder(nn.Module):
    """A text model as people write one: token ids through nn.Embedding, a learned position table, torch's
    own nn.TransformerEncoderLayer (traced through: its forward() branches on is_nested), a pooled head."""

    def __init__(self, vocab=1000, dim=32, length=16):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim, padding_idx=0)
        self.position = nn.Parameter(torch.zeros(length, dim))
        self.layer = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True, dropout=0.0)
        self.head = nn.Linear(dim, 3)

    def forward(self, ids):
        return self.head(self.layer(self.tokens(ids) + self.position).mean(1))


class Lookups(nn.Module):
    """F.embedding on a table of the model's own, beside an nn.EmbeddingBag over the same ids."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(500, 24))
        self.bag = nn.EmbeddingBag(500, 24, mode="sum")
        self.out = nn.Linear(48, 2)

    def forward(self, ids):
        return self.out(torch.cat([F.embedding(ids, self.table).amax(1), self.bag(ids)], 1))


def returns_tuple(forward):
    """A decorator as Hugging Face writes them (can_return_tuple): a wrapper taking (*args, **kwargs)."""
    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        return forward(self, *args, **kwargs)
    return wrapper


class Bert(nn.Module):
    """BERT's embeddings as transformers writes them: forward() behind a decorator, reading **kwargs as
    a dict; token types from a buffer expanded to the batch (token_type_ids.expand(B, L)); positions
    from a buffer of ids sliced to the length, looked up with its leading 1 as the batch; a global
    response norm written torch.linalg.vector_norm(x, ord=2, ...)."""

    def __init__(self, vocab=100, dim=16, length=32):
        super().__init__()
        self.words, self.types = nn.Embedding(vocab, dim), nn.Embedding(2, dim)
        self.positions = nn.Embedding(length, dim)
        self.register_buffer("position_ids", torch.arange(length).expand((1, -1)), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(1, length, dtype=torch.long), persistent=False)
        self.norm = nn.LayerNorm(dim)

    @returns_tuple
    def forward(self, input_ids, token_type_ids=None, **kwargs):
        if kwargs.get("output_attentions") is not None:
            raise ValueError("not while tracing: kwargs is the empty dict")
        batch, length = input_ids.size()
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :length].expand(batch, length)
        x = self.words(input_ids) + self.types(token_type_ids) + self.positions(self.position_ids[:, :length])
        grn = torch.linalg.vector_norm(x, ord=2, dim=1, keepdim=True)
        return self.norm(x * grn)


class Frames(nn.Module):
    """A signal cut into overlapping frames by Tensor.unfold, each frame projected."""

    def __init__(self):
        super().__init__()
        self.project = nn.Linear(8, 5)

    def forward(self, x):
        return self.project(x.unfold(-1, 8, 4))


class Conv1D(nn.Module):
    """GPT-2's linear layer: the weight stored (in, out), applied with torch.addmm on the rows of B·L."""

    def __init__(self, nx, nf):
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.randn(nx, nf)), nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.weight.size(-1),)
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)


class GPT2Block(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.tokens, self.fc, self.proj = nn.Embedding(vocab, dim), Conv1D(dim, 4 * dim), Conv1D(4 * dim, dim)

    def forward(self, ids):
        x = self.tokens(ids)
        return x + self.proj(F.gelu(self.fc(x)))


@pytest.mark.parametrize("build,shape", [(TextEncoder, (16,)), (Lookups, (10,)), (Bert, (24,)), (GPT2Block, (12,))],
                         ids=["text-encoder", "lookups", "bert-embeddings", "gpt2-conv1d"])
def test_imports_token_ids_exactly(build, shape):
    summary = cnncalc.summary(build().eval(), shape, input_dtype=torch.long)  # torchinfo's dtypes=[torch.long]
    truth = measure(build(), shape, "int64")
    outputs = frozenset(row.output_shape for row in summary.report.output_rows)
    ours = (summary.totals.params, summary.totals.buffers, summary.totals.macs, outputs)
    assert ours == (truth.params, truth.buffers, truth.macs, truth.output_shapes)
    assert "uncounted" not in {row.kind for row in summary.layers}
    assert summary.layers[0].activation_bytes == 8 * math.prod(shape)  # the ids are int64


@pytest.mark.parametrize("build,shape", [
    (Subclassed, (3, 4, 16, 16)), (Segmentation, (3, 32, 40)), (Shuffle, (16, 8, 8)), (Tokens, (3, 32, 32)),
    (ConvNeXtBlock, (16, 12, 12)), (OwnWeights, (3, 10, 10)), (Attention, (12, 32)),
    (lambda: Attention(fused=False), (12, 32)), (Arithmetic, (3, 8, 8)), (Gate, (6, 5, 5)),
    (Windows, (8, 10, 12)), (Reused, (3, 9, 9)), (Ensemble, (6,)), (BiasMLP, (8, 8)), (HeadPool, (8, 8, 8)),
    (Patches, (4, 8, 8)), (Standardized, (4, 8, 8)), (Sequencer, (4, 7, 6)), (DecomposedAttention, (4, 4, 16)),
    (ResponseNormBlock, (8, 9, 9)), (LookupBias, (9, 8)), (Slopes, (3, 6, 6)), (Einops, (3, 16, 16)),
    (PythonOnSizes, (3, 8, 8)), (Clippable, (4, 6)), (Commitment, (3, 5, 5)),
    (SequenceFirst, (16, 4, 4)), (QueryFirst, (16, 3, 5)), (Frames, (3, 40)), (ZeroQueries, (16, 3, 5)),
], ids=["subclass", "interpolate", "shuffle", "tokens", "convnext", "own-weights", "attention", "matmul",
        "arithmetic", "gate", "windows", "reused", "ensemble", "bias-mlp", "head-pool", "patches",
        "standardized-and-blur", "lstm-per-row", "decomposed-attention", "response-norm", "lookup-bias",
        "prelu-and-clamp", "einops", "python-on-sizes", "clamp-to-tensors", "mean-of-everything",
        "sequence-first", "query-first", "frames", "zero-queries"])
def test_imports_exactly(build, shape):
    summary = cnncalc.summary(build().eval(), shape)
    truth = measure(build(), shape)
    outputs = frozenset(row.output_shape for row in summary.report.output_rows)
    ours = (summary.totals.params, summary.totals.buffers, summary.totals.macs, outputs)
    assert ours == (truth.params, truth.buffers, truth.macs, truth.output_shapes)


class Written(nn.Module):
    """Activations and element-wise math as hand-written models spell them: modules and F calls, GELU
    written out with erf, a leaky unit by torch.where, a cap by x.where, maximum, clamp_min, a gated
    unit, a sign, a reciprocal and a flip, a norm written out by var (the older unbiased=False) and std
    (correction=0), a log-softmax written out by logsumexp, running and whole products (cumprod, prod),
    shrinkage (F.hardshrink, x.hardshrink, nn.Softshrink), torch.nan_to_num, fmod, torch.max and x.min of two
    tensors, lerp by a number, nn.Unflatten."""

    def __init__(self):
        super().__init__()
        self.conv, self.hardtanh = nn.Conv2d(3, 8, 3, padding=1), nn.Hardtanh(-2.0, 2.0)
        self.act, self.split, self.shrink = nn.SELU(), nn.Unflatten(1, (2, 2)), nn.Softshrink(0.05)

    def forward(self, x):
        x = self.hardtanh(F.mish(self.conv(x)))
        x = torch.maximum(F.softplus(x, beta=2.0), torch.where(x > 0, x, 0.1 * x)).clamp_min(0.05)
        x = x.where(x < 1.5, 1.5)  # the method: torch.where(x < 1.5, x, 1.5)
        x = self.shrink(F.hardshrink(x, 0.1)) + x.hardshrink()
        gelu = x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        y = F.glu(torch.log(gelu.abs() + 1), dim=1)
        y = y * y.sign() + torch.reciprocal(y + 2).flip(-1)
        y = (y - y.mean(1, keepdim=True)) / (y.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        y = y / (torch.std(y, dim=-1, keepdim=True, correction=0) + 1)
        y = y - torch.logsumexp(y, dim=-1, keepdim=True)
        y = y * torch.sigmoid(y).cumprod(-1) + torch.prod(1 + 0.1 * y, dim=-1, keepdim=True)
        y = torch.fmod(torch.nan_to_num(y, posinf=1.0), 0.75) + y.fmod(y.abs() + 1)
        y = torch.max(y, torch.tensor(-3.0)) + y.min(y.abs())  # XGLM's floor on its scores, a 0-d tensor
        y = torch.lerp(y, y.abs(), 0.25) + y.lerp(y * 2, 0.5)
        y = y.addcmul(y, y.abs(), value=0.1) + y.fmod(0.5)  # methods given numbers, by keyword and by place
        return self.split(torch.minimum(self.act(y), F.celu(y, 0.5))).sum(1)


class MoreMath(nn.Module):
    """Element-wise math and activations less often met: log1p and expm1 (torch's and torch.special's),
    trunc, torch.fix, ceil and frac, sinc, logit of a sigmoid (clamped by eps), nn.Threshold and F.threshold;
    the composites torch writes in Python (nn.Softsign, F.tanhshrink, F.softmin) and nn.RReLU."""

    def __init__(self):
        super().__init__()
        self.conv, self.threshold = nn.Conv2d(3, 8, 3, padding=1), nn.Threshold(0.1, -1.0)
        self.softsign, self.rrelu = nn.Softsign(), nn.RReLU(0.1, 0.2)

    def forward(self, x):
        x = self.threshold(self.conv(x))
        x = self.softsign(x) + F.tanhshrink(x) + F.softmin(x, dim=1) + self.rrelu(x)
        x = torch.log1p(x.abs()) + torch.special.expm1(x.clamp(max=1.0)) + F.threshold(x, 0.5, 0.0)
        steps = torch.trunc(x) + torch.fix(x * 2) + x.ceil() + torch.frac(x)
        return torch.sinc(steps) + torch.logit(torch.sigmoid(x), eps=1e-6) + x.sigmoid().logit()


class OtherNames(nn.Module):
    """Calls by torch's other names for them: torch.multiply, x.subtract, torch.divide, x.true_divide,
    torch.negative, torch.concatenate, torch.greater and x.less_equal, torch.special's expit, softmax and
    log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        y = torch.multiply(x, x.subtract(0.5)) + torch.divide(x, 4.0) + x.true_divide(x.abs() + 1)
        y = torch.concatenate([torch.negative(y), torch.special.expit(y)], dim=1)
        y = y.masked_fill(torch.greater(y, 2.0), 2.0).masked_fill(y.less_equal(-2.0), -2.0)
        return torch.special.softmax(y, 1) + torch.special.log_softmax(y, dim=-1)


class FunctionalActivations(nn.Module):
    """Activations called as functions, as hand-written GANs and detectors call them: F.leaky_relu and
    F.elu (and in place, F.leaky_relu_, F.elu_), F.relu(x, inplace=True), x.relu_(), F.hardtanh_,
    F.threshold_, F.gelu(approximate="tanh"), F.tanh, x.hardshrink(lambd)."""

    def __init__(self):
        super().__init__()
        self.conv, self.head = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv(x), 0.2) + F.elu(x.mean(1, keepdim=True), alpha=0.5)
        y = F.relu(self.head(x), inplace=True) + F.gelu(x, approximate="tanh") + F.tanh(x) + x.hardshrink(0.3)
        y = F.leaky_relu_(self.head(y), 0.1) + F.elu_(self.head(y)) + self.head(y).relu_()
        return F.threshold_(F.hardtanh_(y, -2.0, 2.0), 0.1, 0.0)


class MnistExample(nn.Module):
    """pytorch/examples' mnist/main.py Net, as written there: F.relu, F.max_pool2d, torch.flatten and
    F.log_softmax on its logits."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))
        return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)


class FunctionalForms(nn.Module):
    """Layers torch.nn has as modules called as functions: F.pixel_unshuffle and F.pixel_shuffle around a
    conv, F.local_response_norm, and x.swapdims; the matrices' transpose as an attribute, x.mT; F.pad."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x):
        x = F.pixel_shuffle(self.conv(F.pixel_unshuffle(x, 2)), 2)
        x = F.local_response_norm(x, 3, alpha=1e-3).flatten(2)
        x = x.swapdims(1, 2) + x.mT
        # MobileBERT's trigrams: each position beside its neighbours, F.pad given a third pair, of the batch
        return torch.cat([F.pad(x[:, 1:], [0, 0, 0, 1, 0, 0]), x, F.pad(x[:, :-1], [0, 0, 1, 0, 0, 0])], dim=2)


class NewDimsAndCuts(nn.Module):
    """Indices that cut dims and add new ones at once, as RT-DETR's reference_points[:, :, None, :, None, :2]."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        points = self.conv(x).flatten(2).transpose(1, 2)
        return points[:, :, None, :2] * points[:, :, None, 2:] + points[:, 0, None, None, 1:3] + points[..., None, -1:]


class QueriesToTheFeaturesBatch(nn.Module):
    """Mask2Former's first mask prediction: learned queries repeated to the batch of (H·W, B, C) features, read
    off their dim 1, normed and turned batch first, a product with the pixel features, and a mask of it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.queries, self.norm = nn.Embedding(5, 8), nn.LayerNorm(8)

    def forward(self, x):
        pixels = self.conv(x)
        features = pixels.flatten(2).permute(2, 0, 1)
        queries = self.queries.weight.unsqueeze(1).repeat(1, features.shape[1], 1)
        masks = torch.einsum("bqc, bchw -> bqhw", self.norm(queries).transpose(0, 1), pixels)
        return masks, (masks.sigmoid() < 0.5).bool()


class MovedAndRepeated(nn.Module):
    """Channels moved last by torch.movedim for a linear layer and back by moveaxis; then each channel twice in a
    row, repeat_interleave on dim 1 (grouped-query attention's heads, mistral-inference's repeat_kv)."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(4, 8)

    def forward(self, x):
        y = self.fc(torch.movedim(self.conv(x), 1, -1)).moveaxis(-1, 1)
        return y.repeat_interleave(2, dim=1), torch.repeat_interleave(y, 3, dim=-1)


@pytest.mark.parametrize("build,shape,kinds", [
    (Written, (3, 8, 8), {"mish", "hardtanh", "softplus", "where", "maximum", "clamp", "erf", "abs", "log", "glu",
                          "selu", "celu", "minimum", "unflatten", "sign", "reciprocal", "flip", "var", "std",
                          "logsumexp", "cumprod", "prod", "hardshrink", "softshrink", "nantonum", "fmod",
                          "lerp", "addcmul"}),
    (MoreMath, (3, 6, 6), {"threshold", "log1p", "expm1", "trunc", "ceil", "frac", "sinc", "logit",
                             "softsign", "tanhshrink", "softmin", "rrelu"}),
    (OtherNames, (3, 6, 6), {"mul", "sub", "div", "neg", "concat", "sigmoid", "gt", "le", "softmax", "logsoftmax"}),
    (FunctionalActivations, (3, 6, 6), {"leakyrelu", "elu", "relu", "gelu", "tanh", "hardshrink", "hardtanh",
                                        "threshold"}),
    (MnistExample, (1, 28, 28), {"relu", "maxpool2d", "flatten", "logsoftmax"}),
    (FunctionalForms, (4, 8, 8), {"pixelshuffle", "pixelunshuffle", "localresponsenorm", "transpose", "zeropad2d"}),
    (NewDimsAndCuts, (3, 6, 6), {"narrow", "select", "unsqueeze"}),
    (QueriesToTheFeaturesBatch, (3, 6, 6), {"constant", "layernorm", "permute", "einsum", "identity"}),
    (MovedAndRepeated, (3, 6, 6), {"permute", "unsqueeze", "expand", "reshape"}),
], ids=["activations-and-math", "more-math", "other-names", "functional-activations", "mnist-example",
        "functional-forms", "new-dims-and-cuts", "queries-to-the-features-batch", "moved-and-repeated"])
def test_hand_written_calls_import_exactly_every_step_counted(build, shape, kinds):
    summary = cnncalc.summary(build().eval(), shape)
    truth = measure(build(), shape)
    outputs = frozenset(row.output_shape for row in summary.report.output_rows)
    assert (summary.totals.params, summary.totals.macs, outputs) == (truth.params, truth.macs, truth.output_shapes)
    assert not summary.totals.uncounted
    assert {row.kind for row in summary.layers} >= kinds


class PositionTable(nn.Module):
    """nanoGPT's embeddings: tokens looked up at the ids, positions at torch.arange(L), a tensor with no
    batch dim (or, `batched`, one of a batch of one in front)."""

    def __init__(self, batched: bool = False):
        super().__init__()
        self.tokens, self.positions, self.batched = nn.Embedding(50, 16), nn.Embedding(12, 16), batched

    def forward(self, ids):
        positions = torch.arange(ids.size(1), device=ids.device)
        return self.tokens(ids) + self.positions(positions[None] if self.batched else positions)


class PerPosition(nn.Module):
    """A linear layer on every position of every sample as rows, x.reshape(-1, C) (timm's window
    attention's qkv on B·windows rows)."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8, 4)

    def forward(self, x):
        y = self.conv(x)
        return self.fc(y.permute(0, 2, 3, 1).reshape(-1, 8)).view(x.shape[0], -1, 4)


@pytest.mark.parametrize("module,shape,input_dtype", [
    (PositionTable(), (12,), "int64"), (PositionTable(batched=True), (12,), "int64"), (PerPosition(), (3, 6, 6), None),
], ids=["arange", "arange-of-one", "rows"])
def test_layers_off_the_batch_verify_against_every_peer(module, shape, input_dtype):
    # torchinfo multiplies a module's parameters by its output's first dim: the batch, L for a lookup at
    # torch.arange(L), B·H·W for a linear on every position's row; the module itself, measured
    summary = cnncalc.summary(module.eval(), shape, input_dtype=input_dtype, batch=2)
    assert summary.verify(optimizer=None).failed == ()


def test_moved_dims_and_repeated_rows_verify_against_torch_and_every_peer():
    # movedim and moveaxis had been rows not counted, and repeat_interleave off the batch's dim too, which made
    # the totals lower bounds (and check and verify fail) though torch counts no work in them
    summary = cnncalc.summary(MovedAndRepeated(), (3, 6, 6), batch=2)
    assert not summary.totals.uncounted
    assert summary.verify().failed == ()


class ConvNextLayerNorm(nn.LayerNorm):
    """transformers' ConvNeXt norm: nn.LayerNorm run channels last, in a class whose name holds "Conv"."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class PositionBias(nn.Module):
    """transformers' Swin: a module of its own holding relative_position_bias_table, gathered by a buffer
    of indices into a (1, heads, N, N) bias."""

    def __init__(self, window: int = 3, heads: int = 2):
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(torch.randn((2 * window - 1) ** 2, heads))
        cells = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        apart = (cells[:, :, None] - cells[:, None, :]).permute(1, 2, 0) + window - 1
        self.register_buffer("index", apart[..., 0] * (2 * window - 1) + apart[..., 1], persistent=False)

    def forward(self):
        n = self.index.shape[0]
        bias = self.relative_position_bias_table[self.index.view(-1)].view(n, n, -1)
        return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


class LeafModules(nn.Module):
    """Modules of others' libraries that torchinfo counts by their class's name, their parameters' names
    and their own outputs: a LayerNorm subclass named Conv…, GPT-2's Conv1D, Swin's bias table."""

    def __init__(self):
        super().__init__()
        self.conv, self.norm = nn.Conv2d(3, 8, 3, padding=1), ConvNextLayerNorm(8)
        self.qkv, self.bias = Conv1D(8, 24), PositionBias()

    def forward(self, x):
        y = self.norm(self.conv(x)).flatten(2).transpose(1, 2)
        q, k, v = self.qkv(y).view(x.shape[0], 9, 3, 2, 4).permute(2, 0, 3, 1, 4).unbind(0)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=self.bias())


@pytest.mark.parametrize("module,shape,input_dtype", [(LeafModules(), (3, 3, 3), None), (GPT2Block(), (12,), "int64")],
                         ids=["leaf-modules", "gpt2-conv1d"])
def test_modules_no_kind_states_verify_against_every_peer(module, shape, input_dtype):
    # torchinfo: a module with no children, its weight and bias × its output's first dim, and × its dims after
    # the second where its class's name holds "Conv" (Conv1D: B × nf; the norm: B × H × W), a parameter whose
    # name holds "bias" × its first two dims (the table: 1 × heads); ptflops counts the torch.addmm it patches
    summary = cnncalc.summary(module.eval(), shape, input_dtype=input_dtype, batch=2)
    assert summary.verify(optimizer=None).failed == ()
    assert not summary.totals.uncounted


class HeldByBlock(nn.Module):
    def __init__(self, encoding: nn.Module):
        super().__init__()
        self.encoding, self.norm, self.act = encoding, nn.BatchNorm2d(8), nn.ReLU()

    def forward(self, x):
        return x + self.act(self.norm(self.encoding(x)))


class SharedByBlocks(nn.Module):
    """CoaT's serial blocks: one position encoding (a depthwise conv) held by the model and by each block,
    and called by each block."""

    def __init__(self):
        super().__init__()
        self.stem, self.encoding = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.blocks = nn.ModuleList([HeldByBlock(self.encoding), HeldByBlock(self.encoding)])

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x


def test_a_module_held_in_several_places_verifies_against_every_peer():
    # thop and ptflops sum a module's count, all its calls', in each place their walk of the module tree
    # meets it: the encoding, in three places and called twice, counts six calls there
    summary = cnncalc.summary(SharedByBlocks().eval(), (3, 6, 6), batch=2)
    assert summary.verify(optimizer=None).failed == ()


class BiasedScores(nn.Module):
    """Attention scores as BLOOM computes them: torch.baddbmm of a bias and the queries and keys of B·heads
    rows, scaled; then x.baddbmm, the method, which ptflops does not patch."""

    def __init__(self):
        super().__init__()
        self.query, self.key = nn.Linear(8, 8), nn.Linear(8, 8)

    def forward(self, x):
        b, length, _ = x.shape
        q = self.query(x).view(b, length, 2, 4).transpose(1, 2).reshape(b * 2, length, 4)
        k = self.key(x).view(b, length, 2, 4).transpose(1, 2).reshape(b * 2, length, 4)
        bias = q.mean(-1, keepdim=True).transpose(1, 2)  # (B·heads, 1, L)
        scores = torch.baddbmm(bias, q, k.transpose(1, 2), beta=1.0, alpha=0.5)
        return scores.baddbmm(q, k.transpose(1, 2)).view(b, 2, length, length).softmax(-1)


def test_a_product_added_to_scores_verifies_against_torch_and_every_peer():
    # torch.baddbmm: the product's MACs for torch, and for ptflops (which patches the function) its input's
    # elements besides; fvcore has no handle for it
    summary = cnncalc.summary(BiasedScores().eval(), (6, 8), batch=2)
    assert [row.kind for row in summary.layers].count("baddbmm") == 2 and not summary.totals.uncounted
    assert summary.verify(optimizer=None).failed == ()


class GroupedQueryAttention(nn.Module):
    """Llama's attention as transformers calls it: 4 query heads sharing 2 heads of keys and values,
    F.scaled_dot_product_attention(..., is_causal=True, enable_gqa=True)."""

    def __init__(self):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(32, 32), nn.Linear(32, 16), nn.Linear(32, 16)
        self.o_proj = nn.Linear(32, 32)

    def forward(self, x):
        b, length, _ = x.shape
        q = self.q_proj(x).view(b, length, 4, 8).transpose(1, 2)
        k = self.k_proj(x).view(b, length, 2, 8).transpose(1, 2)
        v = self.v_proj(x).view(b, length, 2, 8).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        return self.o_proj(out.transpose(1, 2).reshape(b, length, 32))


def test_grouped_query_attention_verifies_against_torch_and_every_peer():
    # enable_gqa: each group's keys and values as torch repeats them, one per query head (L·S·(E + Ev) MACs
    # a query head); it had been a row not counted
    summary = cnncalc.summary(GroupedQueryAttention().eval(), (12, 32), batch=2)
    assert "scaleddotproductattention" in {row.kind for row in summary.layers} and not summary.totals.uncounted
    assert summary.verify().failed == ()


class LearnedPositions(nn.Embedding):
    """OPT's positions: an nn.Embedding subclass numbering the tokens by a cumulative sum of a mask of ones,
    looked up by nn.Embedding's own forward (F.embedding on the table)."""

    def forward(self, mask):
        return super().forward((torch.cumsum(mask, dim=1) * mask).long() - 1 + 2)


class OPTEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(50, 16), LearnedPositions(20, 16)

    def forward(self, ids):
        return self.tokens(ids) + self.positions(torch.ones(ids.shape, device=ids.device))


def test_a_table_looked_up_at_positions_made_without_the_input_counts_its_parameters():
    # the lookup is part of a tensor made without the input (from torch.ones), a constant: it holds the table,
    # which had been left out of the totals
    module = OPTEmbeddings().eval()
    summary = cnncalc.summary(module, (12,), input_dtype=torch.long, batch=2)
    assert summary.totals.params == sum(p.numel() for p in module.parameters()) == 50 * 16 + 20 * 16
    assert summary.verify(optimizer=None).failed == ()


class EllipsisAttention(nn.Module):
    """Attention written with torch.einsum over '...': the scores of (B, heads, L, d) queries and keys, then
    their weighted sum of values."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x):
        q, k, v = self.qkv(x).view(x.shape[0], x.shape[1], 3, 2, 8).permute(2, 0, 3, 1, 4)
        scores = torch.einsum("...id,...jd->...ij", q, k).softmax(-1)
        return torch.einsum("...ij,...jd->...id", scores, v)


def test_an_einsum_over_an_ellipsis_verifies_against_torch_and_every_peer():
    # each '...' written out in letters of its own, one per dim it stands for: it had been a row not counted
    summary = cnncalc.summary(EllipsisAttention().eval(), (6, 16), batch=2)
    assert [row.kind for row in summary.layers].count("einsum") == 2 and not summary.totals.uncounted
    assert summary.verify(optimizer=None).failed == ()


class Router(nn.Module):
    """A mixture's router as Mixtral's writes its expert mask: each token's best expert, F.one_hot of it,
    and the chosen experts' scores."""

    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(16, 4)

    def forward(self, x):
        scores = self.gate(x).softmax(-1)
        chosen = F.one_hot(scores.argmax(-1), num_classes=4)
        return scores * chosen.float()


def test_a_one_hot_choice_verifies_against_torch_and_every_peer():
    # int64 rows of classes, which had been a row not counted
    summary = cnncalc.summary(Router().eval(), (6, 16), batch=2)
    assert "onehot" in {row.kind for row in summary.layers} and not summary.totals.uncounted
    assert summary.verify().failed == ()


class MasksAndPositions(nn.Module):
    """What layers make besides floating tensors: a comparison's mask, argmax's positions, the indices
    topk, sort, max and min return beside their values."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        values, indices = y.topk(2, 1)
        largest, where = y.max(1)
        smallest, at = torch.min(y, dim=2, keepdim=True)
        return (y > 0, y.argmax(1), y.amax(1), values, indices, y.sort(1).indices, y.argsort(1), largest, where,
                smallest, at)


def test_masks_and_positions_take_the_bytes_torch_gives_them():
    # bool masks one byte an element, int64 positions eight, floats four: each output's bytes as torch holds it
    module = MasksAndPositions().eval()
    outputs = module(torch.randn(2, 3, 6, 6))
    rows = cnncalc.summary(module, (3, 6, 6), batch=2).report.output_rows
    assert [row.activation_bytes for row in rows] == [t.numel() * t.element_size() for t in outputs]
    assert [row.dtype for row in rows] == ["bool", "int64", "float32", "float32", "int64", "int64", "int64",
                                           "float32", "int64", "float32", "int64"]
    assert not cnncalc.summary(module, (3, 6, 6)).totals.uncounted


def test_each_row_names_the_module_class_torch_runs_it_as():
    # every module row's class is the class of the module at that path (torch's named_modules); a
    # subclass keeps its own name (torchvision's Conv3DSimple is a conv3d)
    model = TextEncoder().eval()
    summary = cnncalc.summary(model, (16,), input_dtype="int64")
    classes = {path: type(part).__name__ for path, part in model.named_modules()}
    rows = [row for row in summary.layers if row.module is not None]
    assert {row.name: row.module for row in rows} == {row.name: classes[row.name] for row in rows}
    assert {"Embedding", "MultiheadAttention", "LayerNorm", "Linear"} <= {row.module for row in rows}
    assert cnncalc.summary(Subclassed().eval(), (3, 4, 16, 16)).layers[1].module == "Conv3DSimple"
    collapsed = cnncalc.summary(model, (16,), input_dtype="int64", depth=1)
    assert next(row for row in collapsed.layers if row.name == "layer").module == "TransformerEncoderLayer"


def test_names_follow_module_paths():
    names = [row.name for row in cnncalc.summary(Tokens().eval(), (3, 32, 32)).layers]
    assert names[:2] == ["input", "patch"] and "attention" in names and names[-1] == "head"
    assert "class_token" in names and "position" in names  # parameters read as tensors, by their attribute


class Circular(nn.Module):
    """A circular pad: no kind states it."""

    def forward(self, x):
        return F.pad(x, (1, 1, 1, 1), mode="circular")


class WeightOnly(nn.Module):
    """A group norm with a weight and no bias: groupnorm's affine is both, so it would count 4 too many."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return F.group_norm(x, 2, self.weight)


class Reconstruction(nn.Module):
    """A forward() that returns its loss beside its output: one number for the whole batch."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y, F.mse_loss(y, x)


@pytest.mark.parametrize("build, operation", [(Circular, "pad"), (WeightOnly, "group_norm"),
                                              (Reconstruction, "mse_loss")],
                         ids=["circular-pad", "weight-only-norm", "loss"])
def test_what_no_kind_states_is_a_row_not_counted(build, operation):
    # a row of its own, marked: its output's shape and what it holds as torch has them, its work not
    # counted (MACs a lower bound of FlopCounterMode's), never a figure that looks whole
    summary = cnncalc.summary(build(), (4, 8, 8))
    truth = measure(build(), (4, 8, 8))
    assert summary.totals.uncounted == (operation,) and summary.layers[-1].kind == "uncounted"
    outputs = frozenset(row.output_shape for row in summary.report.output_rows)
    assert (summary.totals.params, summary.totals.buffers, outputs) == \
        (truth.params, truth.buffers, truth.output_shapes)
    assert summary.totals.macs <= truth.macs


class GraphConv(nn.Module):
    """A dense GCN layer (Kipf and Welling): the adjacency, a buffer, normalized in forward(), D^-1/2 A D^-1/2,
    times each sample's node features; and the adjacency's square, A @ A, for two hops."""

    def __init__(self, nodes: int = 6):
        super().__init__()
        self.register_buffer("adjacency", (torch.rand(nodes, nodes) > 0.5).float() + torch.eye(nodes))
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        scale = self.adjacency.sum(-1).rsqrt()
        normalized = scale[:, None] * self.adjacency * scale[None, :]
        two_hops = self.adjacency @ self.adjacency
        return normalized @ self.fc(x) + two_hops @ x


def test_products_of_constants_and_of_a_constant_by_each_sample_are_counted():
    # A @ A had read as a view of A, a constant of no work; and a matrix made in forward() times the input's
    # tensors, normalized @ h, as the input's tensor reshaped: a row not counted (5,760 MACs of torch's 8,640)
    summary = cnncalc.summary(GraphConv(), (6, 8), batch=2)
    assert not summary.totals.uncounted
    assert summary.verify().failed == ()


class Reparameterized(nn.Module):
    """A VAE's sampling: z = mu + eps * std, its noise torch.randn_like(std), of std's shape alone."""

    def __init__(self):
        super().__init__()
        self.encoder, self.mu, self.log_var, self.decoder = nn.Linear(16, 8), nn.Linear(8, 4), nn.Linear(8, 4), \
            nn.Linear(4, 16)

    def forward(self, x):
        hidden = torch.relu(self.encoder(x))
        mu, log_var = self.mu(hidden), self.log_var(hidden)
        std = torch.exp(0.5 * log_var)
        return self.decoder(mu + torch.randn_like(std) * std), mu, log_var


def test_noise_of_a_tensor_shape_is_a_tensor_made_for_each_sample():
    # torch.randn_like had been a row not counted, so the totals lower bounds and check and verify failing
    summary = cnncalc.summary(Reparameterized(), (16,), batch=3)
    assert not summary.totals.uncounted and "constant" in {row.kind for row in summary.layers}
    assert summary.verify().failed == ()


class NumberOverTensor(nn.Module):
    """A sigmoid written out, 1 / (1 + torch.exp(-x)), and a number over a tensor, 2.0 / (x.abs() + 1)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = self.fc(x)
        return 1 / (1 + torch.exp(-h)) + 2.0 / (h.abs() + 1)


def test_a_number_over_a_tensor_is_its_reciprocal_times_the_number():
    # a / x with a number a had been a row not counted; torch computes it as x.reciprocal() * a
    summary = cnncalc.summary(NumberOverTensor(), (4, 8), batch=3)
    assert not summary.totals.uncounted and {"reciprocal", "mul"} <= {row.kind for row in summary.layers}
    assert summary.verify().failed == ()


class Siamese(nn.Module):
    """One encoder for two inputs (a siamese network's twins), the distance of their codes classified."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(392, 16))
        self.fc = nn.Linear(16, 1)

    def forward(self, x1, x2):
        return torch.sigmoid(self.fc(torch.abs(self.encoder(x1) - self.encoder(x2))))


def test_an_encoder_shared_by_two_inputs_verifies_its_training_step():
    # the second call's weight gradient, kept until the first call's backward, is added to the first's: their sum
    # is a tensor beside both, which the training step had left out (predicted 182,104 B, torch 203,832)
    summary = cnncalc.summary(Siamese(), {"x1": (1, 16, 16), "x2": (1, 16, 16)})
    assert summary.verify().failed == ()


class CellLoop(nn.Module):
    """An LSTMCell stepped through the sequence, (h, c) = cell(x[:, t], (h, c)), each step's h read out."""

    def __init__(self):
        super().__init__()
        self.cell, self.out = nn.LSTMCell(10, 16), nn.Linear(16, 4)

    def forward(self, x):
        h = c = x.new_zeros(x.size(0), 16)
        steps = []
        for t in range(x.size(1)):
            h, c = self.cell(x[:, t], (h, c))
            steps.append(self.out(h))
        return torch.stack(steps, 1)


def test_an_lstm_cell_and_its_cell_state_are_layers():
    # the pieces of what LSTMCell returns, h and c, had refused the model (cannot map getitem ×15), then been rows
    # not counted (1,280 MACs where torch counts 14,592): now an lstmcell per step and the cellstate it returns
    summary = cnncalc.summary(CellLoop(), (6, 10), batch=2)
    truth = measure(CellLoop(), (6, 10))
    assert not summary.totals.uncounted
    assert [row.kind for row in summary.layers].count("cellstate") == 5  # the last step's c nobody reads
    assert (summary.totals.params, summary.totals.macs // 2) == (truth.params, truth.macs)
    failed = [check for check in summary.verify().checks if not check.ok]
    assert not failed, failed


class RandomPooled(nn.Module):
    """nn.FractionalMaxPool2d asked for its indices, returned beside the head's output: a module no kind states
    returning two tensors."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3), nn.Linear(200, 4)
        self.pool = nn.FractionalMaxPool2d(2, output_size=(5, 5), return_indices=True)

    def forward(self, x):
        pooled, indices = self.pool(self.conv(x))
        return self.fc(pooled.flatten(1)), indices


def test_a_module_no_kind_states_returning_several_tensors_is_a_row_not_counted():
    # its pieces had refused the model (cannot map getitem), where every peer runs it: now rows not counted, the
    # totals lower bounds, the tensors as torch holds them, the layers after them counted for each sample
    summary = cnncalc.summary(RandomPooled(), (3, 12, 12), batch=2)
    truth = measure(RandomPooled(), (3, 12, 12))
    assert "pool" in summary.totals.uncounted
    assert (summary.totals.params, summary.totals.buffers) == (truth.params, truth.buffers)
    assert [row.macs for row in summary.layers if row.name == "fc"] == [2 * 200 * 4]


class GivenState(nn.Module):
    """A GRU given its initial state, gru(x, h0), as PyTorch's tutorials pass it; batch first, or the sequence
    first (x.transpose(0, 1)) and the last step's output read, output[-1]."""

    def __init__(self, batch_first: bool = True):
        super().__init__()
        self.gru, self.out = nn.GRU(10, 20, batch_first=batch_first), nn.Linear(20, 4)

    def forward(self, x):
        if self.gru.batch_first:
            return self.out(self.gru(x, torch.zeros(1, x.size(0), 20))[0])
        output, _ = self.gru(x.transpose(0, 1), torch.zeros(1, x.size(0), 20))
        return self.out(output[-1])


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "sequence-first"])
def test_a_recurrent_layer_given_its_initial_state_is_counted(batch_first):
    # the import had refused it as its own fault (made gru a gru that takes 1 input, got 2), or, the sequence
    # first, as no operation it could map (cannot map 3 operation(s): getitem ×2, GRU module); then a row not
    # counted, 100 MACs where torch counts 21,700. h0, torch.zeros(1, B, 20), is its second input now
    summary = cnncalc.summary(GivenState(batch_first), (12, 10), batch=3)
    truth = measure(GivenState(batch_first), (12, 10))
    assert not summary.totals.uncounted
    assert [row.inputs[1:] for row in summary.layers if row.kind == "gru"] == [("zeros",)]
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)


class GRULoop(nn.Module):
    """A GRUCell stepped through the sequence from zeros, h = cell(x[:, t], h), the last state classified."""

    def __init__(self):
        super().__init__()
        self.cell, self.out = nn.GRUCell(10, 16), nn.Linear(16, 4)

    def forward(self, x):
        h = x.new_zeros(x.size(0), 16)
        for t in range(x.size(1)):
            h = self.cell(x[:, t], h)
        return self.out(h)


class RecurrentPolicy(nn.Module):
    """An agent's recurrent core: an observation's encoding and the state it carries in, both forward()'s inputs,
    through an RNNCell; a policy and a value head read the new state, returned beside them."""

    def __init__(self):
        super().__init__()
        self.encode, self.core = nn.Sequential(nn.Linear(8, 64), nn.ReLU()), nn.RNNCell(64, 64)
        self.policy, self.value = nn.Linear(64, 4), nn.Linear(64, 1)

    def forward(self, obs, state):
        state = self.core(self.encode(obs), state)
        return self.policy(state), self.value(state), state


@pytest.mark.parametrize("build,inputs,kind", [(GRULoop, (6, 10), "grucell"),
                                               (RecurrentPolicy, {"obs": (8,), "state": (64,)}, "rnncell")],
                         ids=["gru-loop", "rnn-policy"])
def test_recurrent_cells_are_layers(build, inputs, kind):
    # nn.GRUCell and nn.RNNCell had been rows not counted: a GRU loop's 7,488 MACs as 64, verify refused it
    summary = cnncalc.summary(build(), inputs, batch=3)
    others = tuple(OtherInput(name=name, shape=shape, dtype=None) for name, shape in list(inputs.items())[1:]) \
        if isinstance(inputs, dict) else ()
    truth = measure(build(), next(iter(inputs.values())) if isinstance(inputs, dict) else inputs, None, others)
    assert not summary.totals.uncounted and kind in {row.kind for row in summary.layers}
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)
    failed = [check for check in summary.verify().checks if not check.ok]
    assert not failed, failed


class AttentionMaps(nn.Module):
    """nn.MultiheadAttention asked for its weights, as a model that shows its attention maps does: the output
    classified, the weights (averaged over the heads) returned beside it."""

    def __init__(self):
        super().__init__()
        self.attention, self.head = nn.MultiheadAttention(16, 4, batch_first=True), nn.Linear(16, 3)

    def forward(self, x):
        output, weights = self.attention(x, x, x)
        return self.head(output.mean(1)), weights


def test_the_weights_multihead_attention_returns_are_a_layer():
    # they had been a row not counted, the totals lower bounds, and verify refused the model
    summary = cnncalc.summary(AttentionMaps(), (7, 16), batch=3)
    truth = measure(AttentionMaps(), (7, 16))
    assert not summary.totals.uncounted
    assert [(row.kind, row.output_shape) for row in summary.report.output_rows] == [("linear", (3,)),
                                                                                   ("attentionweights", (7, 7))]
    assert {row.output_shape for row in summary.report.output_rows} == truth.output_shapes
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)
    assert all(check.ok for check in summary.verify().checks)


class HeadMaps(nn.Module):
    """Attention maps of each head (average_attn_weights=False), returned beside a linear head read straight off
    the attention's output."""

    def __init__(self, heads: int):
        super().__init__()
        self.attention, self.head = nn.MultiheadAttention(24, heads, batch_first=True), nn.Linear(24, 3)

    def forward(self, x):
        output, weights = self.attention(x, x, x, average_attn_weights=False)
        return self.head(output), weights


@pytest.mark.parametrize("heads", [4, 3], ids=["fused", "general"])
def test_each_heads_weights_are_a_layer_and_a_linear_after_attention_copies_as_torch_does(heads):
    # each head's weights had been a row not counted; a linear on the output torch's fused inference kernel makes
    # (4 heads) had been given a copy of it, as training's transposed view needs (the peak 0.87 of torch's)
    summary = cnncalc.summary(HeadMaps(heads), (7, 24), batch=3)
    truth = measure(HeadMaps(heads), (7, 24))
    assert not summary.totals.uncounted
    assert [row.output_shape for row in summary.report.output_rows] == [(7, 3), (heads, 7, 7)]
    assert {row.output_shape for row in summary.report.output_rows} == truth.output_shapes
    verified = summary.verify()
    assert verified.failed == ()
    inference = next(check for check in verified.memory if check.figure == "peak inference memory")
    assert inference.predicted == inference.measured


class UnpackedBlock(nn.Module):
    """A transformer block as people write it: `y, _ = self.attn(x, x, x)`, whose local `_` holds the weights
    (asked for by default) until forward() returns."""

    def __init__(self, width: int = 64):
        super().__init__()
        self.attn, self.norm = nn.MultiheadAttention(width, 4, batch_first=True), nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        y, _ = self.attn(x, x, x)
        x = self.norm(x + y)
        return x + self.ff(x)


def test_weights_a_local_holds_unread_are_held_as_torch_holds_them():
    # the weights, 128 × 128 a sample, were let go at once: the peak inference 0.855 of torch's at a batch of 8
    summary = cnncalc.summary(UnpackedBlock(), (128, 64), batch=8)
    assert [row.kind for row in summary.layers].count("attentionweights") == 1
    inference = next(check for check in summary.verify().memory if check.figure == "peak inference memory")
    assert inference.predicted == inference.measured


class CosinePrototypes(nn.Module):
    """A prototype classifier: each code against learned prototypes by cosine similarity, scaled, the two given a
    dim to broadcast along: F.cosine_similarity(z.unsqueeze(1), self.prototypes.unsqueeze(0), dim=-1)."""

    def __init__(self):
        super().__init__()
        self.encoder, self.prototypes = nn.Linear(16, 12), nn.Parameter(torch.randn(5, 12))

    def forward(self, x):
        return 10 * F.cosine_similarity(self.encoder(x).unsqueeze(1), self.prototypes.unsqueeze(0), dim=-1)


class PrototypesCompared(nn.Module):
    """Prototypes made by layers from parameters alone, each compared with the codes and with each other."""

    def __init__(self):
        super().__init__()
        self.encoder, self.shape_a, self.shape_b = nn.Linear(8, 6), nn.Linear(6, 6), nn.Linear(6, 6)
        self.a, self.b = nn.Parameter(torch.randn(4, 6)), nn.Parameter(torch.randn(4, 6))

    def forward(self, x):
        z, a, b = self.encoder(x).unsqueeze(1), self.shape_a(self.a).unsqueeze(0), self.shape_b(self.b).unsqueeze(0)
        return F.cosine_similarity(z, a, dim=-1) + F.cosine_similarity(z, b, dim=-1) + F.cosine_similarity(a, b, dim=-1)


def test_prototypes_made_by_layers_and_compared_with_each_other():
    # the per-sample shape of one read beside another made of constants alone recursed without end (RecursionError)
    summary = cnncalc.summary(PrototypesCompared(), (8,))
    truth = measure(PrototypesCompared(), (8,))
    assert (summary.totals.params, summary.totals.macs) == (truth.params, truth.macs)


class MapSimilarity(nn.Module):
    """Two feature maps compared at each position along channels, torch.cosine_similarity(a, b, dim=1)."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 1)

    def forward(self, x):
        return torch.cosine_similarity(self.a(x), self.b(x), dim=1)


class SiameseCosine(nn.Module):
    """A siamese encoder's two codes compared by nn.CosineSimilarity."""

    def __init__(self):
        super().__init__()
        self.encoder, self.similarity = nn.Linear(16, 8), nn.CosineSimilarity(dim=1)

    def forward(self, a, b):
        return self.similarity(self.encoder(a), self.encoder(b))


@pytest.mark.parametrize("build,inputs", [(CosinePrototypes, (16,)), (MapSimilarity, (3, 8, 8)),
                                          (SiameseCosine, {"a": (16,), "b": (16,)})],
                         ids=["prototypes", "maps", "siamese"])
def test_cosine_similarity_is_a_layer(build, inputs):
    # F.cosine_similarity had been a row not counted, and the prototypes' unsqueeze another (their per-sample
    # shape read from what the similarity returns, of a dim fewer)
    summary = cnncalc.summary(build(), inputs, batch=3)
    first, others = (next(iter(inputs.values())), (OtherInput(name="b", shape=(16,), dtype=None),)) \
        if isinstance(inputs, dict) else (inputs, ())
    truth = measure(build(), first, None, others)
    assert not summary.totals.uncounted and "cosinesimilarity" in {row.kind for row in summary.layers}
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)
    assert {row.output_shape for row in summary.report.output_rows} == truth.output_shapes
    assert all(check.ok for check in summary.verify().checks)


class WeightedBag(nn.Module):
    """An nn.EmbeddingBag given each id's weight, bag(ids, None, per_sample_weights): a second tensor its kind
    does not take."""

    def __init__(self):
        super().__init__()
        self.bag, self.out = nn.EmbeddingBag(50, 8, mode="sum"), nn.Linear(8, 2)

    def forward(self, ids, weights):
        return self.out(self.bag(ids, None, weights))


def test_a_module_given_tensors_its_kind_does_not_take_is_a_row_not_counted():
    inputs = {"ids": "6:int64", "weights": (6,)}
    summary = cnncalc.summary(WeightedBag(), inputs)
    truth = measure(WeightedBag(), (6,), "int64", (OtherInput(name="weights", shape=(6,), dtype=None),))
    assert "bag" in summary.totals.uncounted and (summary.totals.params, summary.totals.macs) == (
        truth.params, truth.macs)


class EncoderGRU(nn.Module):
    """A sequence encoder whose summary is its GRU's last layer's final state, h_n[-1], or its every layer's
    moved batch first and flattened, h_n.transpose(0, 1).reshape(B, -1)."""

    def __init__(self, flattened: bool):
        super().__init__()
        self.flattened, self.gru = flattened, nn.GRU(10, 20, num_layers=2, bidirectional=flattened, batch_first=True)
        self.fc = nn.Linear(80 if flattened else 20, 4)

    def forward(self, x):
        _, hidden = self.gru(x)
        return self.fc(hidden.transpose(0, 1).reshape(x.size(0), -1) if self.flattened else hidden[-1])


@pytest.mark.parametrize("build,input_size,input_dtype", [
    (SentimentLSTM, (12,), "int64"), (functools.partial(EncoderGRU, False), (6, 10), None),
    (functools.partial(EncoderGRU, True), (6, 10), None)], ids=["lstm-hidden", "gru-last", "gru-flattened"])
def test_the_final_states_a_recurrent_layer_returns_are_layers(build, input_size, input_dtype):
    # h_n and c_n, layers·directions × batch × size, had been rows not counted (getitem ×3) and the totals lower
    # bounds; verify refused the model. Now finalstate rows, batch first, and every figure torch's (on the meta
    # device FlopCounterMode counts each step's products, as ATen's general path runs them)
    summary = cnncalc.summary(build(), input_size, input_dtype=input_dtype, batch=3)
    truth = measure(build(), input_size, input_dtype)
    assert not summary.totals.uncounted and "finalstate" in {row.kind for row in summary.layers}
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)
    assert {summary.report.output_rows[0].output_shape} == truth.output_shapes
    checks = summary.verify().checks
    assert all(check.ok for check in checks if check.figure in ("params", "macs", "output_shape", "torch ops")), \
        [check for check in checks if not check.ok]


class StatefulEncoder(nn.Module):
    """An encoder returning its output and its hidden state, as PyTorch's translation tutorial's does, the
    last layer's both directions moved batch first, h_n[-2:].transpose(0, 1), for a head; a batch of one only
    (a check on the data that sends the run to one sample)."""

    def __init__(self):
        super().__init__()
        self.gru, self.head = nn.GRU(10, 16, num_layers=2, bidirectional=True, batch_first=True), nn.Linear(32, 3)

    def forward(self, x):
        if x.shape[0] != 1:
            raise ValueError("one sequence at a time")
        output, hidden = self.gru(x, torch.zeros(4, x.shape[0], 16))
        return self.head(hidden[-2:].transpose(0, 1).reshape(x.shape[0], -1)), hidden


def test_states_given_and_returned_read_at_any_batch():
    # from one sample's run h_0 had been read as 4 × 1 × 16 a sample and refused; h_n[-2:] (2 × B × 16) as a
    # batch of 2 and its transpose as rows not counted; verify measured the returned h_n as 3 × 16 a sample
    summary = cnncalc.summary(StatefulEncoder(), (7, 10))
    truth = measure(StatefulEncoder(), (7, 10))
    assert not summary.totals.uncounted and "one sample" in summary.report.ran_on_cpu
    assert (summary.totals.params, summary.totals.macs) == (truth.params, truth.macs)
    assert [row.output_shape for row in summary.report.output_rows] == [(3,), (4, 16)]
    failed = [check for check in summary.verify().checks if not check.ok]
    assert not failed, failed


class Bridge(nn.Module):
    """bentrevett's seq2seq with attention: the encoder's summary, a batch-first vector, given to the decoder's GRU
    as its state, hidden.unsqueeze(0), its new state squeezed back."""

    def __init__(self):
        super().__init__()
        self.summary, self.gru, self.head = nn.Linear(10, 16), nn.GRU(10, 16, batch_first=True), nn.Linear(16, 3)

    def forward(self, x):
        hidden = torch.tanh(self.summary(x.mean(1)))
        _, hidden = self.gru(x, hidden.unsqueeze(0))
        return self.head(hidden.squeeze(0))


def test_a_state_given_a_layers_dim_is_a_reshape():
    summary = cnncalc.summary(Bridge(), (7, 10), batch=3)
    truth = measure(Bridge(), (7, 10))
    assert not summary.totals.uncounted
    assert (summary.totals.params, summary.totals.macs // 3) == (truth.params, truth.macs)
    assert all(check.ok for check in summary.verify().checks)


class Prototypes(nn.Module):
    """A prototype classifier: each sample's code against a matrix of prototypes, -torch.cdist(z, P)."""

    def __init__(self):
        super().__init__()
        self.encoder, self.prototypes = nn.Linear(8, 16), nn.Parameter(torch.randn(5, 16))

    def forward(self, x):
        return -torch.cdist(self.encoder(x), self.prototypes)


def test_distances_of_a_batch_of_vectors_are_a_row_not_counted():
    # torch.cdist((B, M), (R, M)) measures the batch as its rows, as no sample alone does: it had been refused at
    # the analysis (cdist takes (…, P, M) and (…, R, M), got 16 and 5×16), where every peer runs it
    summary = cnncalc.summary(Prototypes(), (8,))
    truth = measure(Prototypes(), (8,))
    assert "cdist" in summary.totals.uncounted
    assert (summary.totals.params, summary.totals.macs) == (truth.params, truth.macs)


class AfterUncounted(nn.Module):
    """A layer reading a row not counted (nn.Bilinear, which no kind states yet), each sample's."""

    def __init__(self):
        super().__init__()
        self.a, self.pair, self.out = nn.Linear(8, 6), nn.Bilinear(6, 6, 4), nn.Linear(4, 3)

    def forward(self, x):
        h = self.a(x)
        return self.out(self.pair(h, h))


def test_a_layer_after_a_row_not_counted_is_counted_for_each_sample():
    # the row not counted had read nothing, so what reads it was taken for one tensor of the whole batch, counted
    # once: 12 MACs at a batch of 3 where torch counts 36 (FlopCounterMode counts torch.bilinear 0 too)
    module = AfterUncounted()
    summary = cnncalc.summary(module, (8,), batch=3)
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(3, 8))
    assert summary.totals.uncounted == ("pair",)
    assert [row.macs for row in summary.layers if row.name == "out"] == [3 * 4 * 3]
    assert summary.totals.macs == counter.get_total_flops() // 2


class Caching(nn.Module):
    """A forward() that caches what it computes on the module (ConViT, EfficientViT's attention biases)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.table, self.seen = None, {}

    def forward(self, x):
        if self.table is None or self.table.shape[-1] != x.shape[-1]:
            self.table = torch.arange(x.shape[-1], dtype=x.dtype, device=x.device)
        self.seen[str(x.device)] = self.table
        return self.conv(x) + self.table


def test_the_module_is_left_as_it_was():
    module = Caching().eval()
    before = {name: id(value) for name, value in vars(module).items()}
    totals = cnncalc.summary(module, (3, 5, 5)).totals
    assert (totals.params, totals.buffers) == (16, 0)  # torch.arange(5) is no tensor the model holds
    assert {name: id(value) for name, value in vars(module).items()} == before and module.seen == {}
    assert module(torch.randn(1, 3, 5, 5)).shape == (1, 4, 5, 5)  # still a CPU module that runs


class Replacing(nn.Module):
    """ConViT: forward() replaces a buffer with one sized by the input."""

    def __init__(self):
        super().__init__()
        self.register_buffer("positions", torch.zeros(1, 1))

    def forward(self, x):
        if self.positions.shape[-1] != x.shape[-1]:
            self.positions = torch.zeros(1, x.shape[-1])
        return x + self.positions


def test_a_buffer_forward_replaces_counts_as_the_model_holds_it_and_says_so():
    module = Replacing()
    summary = cnncalc.summary(module, (4, 8))
    truth = measure(Replacing(), (4, 8))
    assert (summary.totals.buffers, summary.totals.macs) == (truth.buffers, truth.macs) == (1, 0)
    assert [(held.name, held.buffers, held.why) for held in summary.report.not_run] == \
        [("positions", 1, "replaced by forward()")]
    assert module.positions.shape == (1, 1)  # the module is left as it was


# (past a channels-last permute or rows moved into the batch, cnncalc states no receptive field, so
# there is none to check)
@pytest.mark.parametrize("build, shape", [(Reused, (3, 9, 9)), (lambda: HeadPool(pooled=16), (8, 32, 32)),
                                          (Standardized, (4, 8, 8)), (Sequencer, (4, 7, 6)),
                                          (DecomposedAttention, (4, 4, 16)), (Windows, (8, 10, 12)),
                                          (ConvNeXtBlock, (16, 12, 12)), (ResponseNormBlock, (8, 9, 9)),
                                          (LookupBias, (9, 8)), (Slopes, (3, 6, 6)), (Einops, (3, 16, 16)),
                                          (SequenceFirst, (16, 4, 4)), (QueryFirst, (16, 3, 5)), (Frames, (3, 40)),
                                          (ZeroQueries, (16, 3, 5))],
                         ids=["weights-of", "per-row", "given-filters", "lstm", "decomposed-attention", "windows",
                              "convnext", "response-norm", "lookup-bias", "prelu-and-clamp", "einops",
                              "sequence-first", "query-first", "frames", "zero-queries"])
def test_imported_specs_verify_against_torch(build, shape):
    # the spec exported from the module, built again by cnncalc and checked figure by figure (every layer's
    # shape, parameters, MACs under each peer tool, receptive fields against gradients, memory)
    from cnncalc.model import read_pytorch
    from cnncalc.output.export import spec_data
    from cnncalc.spec import build_graph
    from cnncalc.verify.run import verify

    module = build().eval()
    graph = build_graph(spec_data(read_pytorch(module, {}, shape)), "<imported>", {})
    assert verify(graph).failed == ()


def test_an_imported_text_model_verifies_with_ids():
    # the rebuilt model is fed int64 ids below the table's size
    from cnncalc.model import read_pytorch
    from cnncalc.output.export import spec_data
    from cnncalc.spec import build_graph
    from cnncalc.verify.run import verify

    graph = build_graph(spec_data(read_pytorch(Lookups().eval(), {}, (10,), "int64")), "<imported>", {})
    assert graph.input_dtype == "int64" and verify(graph).failed == ()


class CausalEncoder(nn.Module):
    """A GPT as PyTorch's tutorials write it: nn.TransformerEncoder given a causal mask, is_causal=True."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
        return self.encoder(x, mask=mask, is_causal=True)


class PaddedAttention(nn.Module):
    """nn.MultiheadAttention asked for its weights (the default), given a key padding mask as forward()'s
    second input."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(32, 4, batch_first=True)

    def forward(self, x, padding):
        return self.attention(x, x, x, key_padding_mask=padding)[0]


@pytest.mark.parametrize("module,size", [(CausalEncoder(), (12, 32)),
                                         (PaddedAttention(), {"x": (12, 32), "padding": "12:bool"})],
                         ids=["causal-encoder", "padded-attention"])
def test_attention_given_masks_verifies_against_torch_and_every_peer(module, size):
    # masks are inputs of the attention that change no shape; given one, torch adds it to the scores by
    # baddbmm, which fvcore has no handle for and ptflops counts one per element of the mask; the causal
    # mask is made by torch.triu
    # (query, key and value one tensor: the layer reads it once, then the mask)
    summary = cnncalc.summary(module.eval(), size, batch=2)
    rows = [row for row in summary.layers if row.kind == "multiheadattention"]
    assert rows and all(len(row.inputs) == 2 for row in rows) and not summary.totals.uncounted
    assert summary.verify().failed == ()


class Packed(nn.Module):
    """An LSTM given a PackedSequence, as variable-length text batches are fed (sorted by length first, or not)."""

    def __init__(self, enforce_sorted: bool):
        super().__init__()
        self.lstm, self.head = nn.LSTM(10, 16, batch_first=True), nn.Linear(16, 3)
        self.enforce_sorted = enforce_sorted

    def forward(self, x):
        lengths = torch.full((x.size(0),), x.size(1), dtype=torch.long)
        _, (hidden, _) = self.lstm(torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                                           enforce_sorted=self.enforce_sorted))
        return self.head(hidden[-1])


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_a_packed_sequence_is_refused_by_what_it_is(enforce_sorted):
    # its two or four tensors had been read as initial states: "takes its initial states as 1×16 and 1×16 …, got 7"
    with pytest.raises(cnncalc.SpecError, match="lstm: given a PackedSequence, which cnncalc does not read"):
        cnncalc.summary(Packed(enforce_sorted), (7, 10))


class MessagePassing(nn.Module):
    """A graph network written by hand on a fixed graph of 10 nodes and 12 edges (its ends buffers): each edge's
    message is its source's row (h[:, sources], or h.index_select(1, sources)), summed at its target by
    index_add_ into torch.zeros_like(h), or by index_add on h itself with an alpha."""

    def __init__(self, gathered: bool, in_place: bool):
        super().__init__()
        self.gathered, self.in_place = gathered, in_place
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("sources", torch.randint(0, 10, (12,), generator=generator))
        self.register_buffer("targets", torch.randint(0, 10, (12,), generator=generator))
        self.lin, self.out = nn.Linear(16, 16), nn.Linear(16, 4)

    def forward(self, x):
        h = self.lin(x)
        messages = h[:, self.sources] if self.gathered else h.index_select(1, self.sources)
        if self.in_place:
            summed = torch.zeros_like(h).index_add_(1, self.targets, messages) + h
        else:
            summed = h.index_add(1, self.targets, messages, alpha=0.5)
        return self.out(F.relu(summed))


class Transformed(nn.Module):
    """A spatial transformer resampling a 4 × 4 input to a 32 × 32 grid: its grid the most of what it holds."""

    def __init__(self):
        super().__init__()
        self.locate = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                                    nn.Linear(16, 6))

    def forward(self, x):
        grid = F.affine_grid(self.locate(x).view(-1, 2, 3), [x.size(0), 1, 32, 32], align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_an_affine_grids_training_step_holds_its_base_grid():
    # its backward makes the base grid again (affine_grid_generator_backward), 32 × 32 × 3 a sample: the training
    # step had been predicted 0.67 of torch's (verify failed); inference the same to the byte
    verified = cnncalc.summary(Transformed(), (1, 4, 4), batch=2).verify()
    assert verified.failed == ()
    inference, training = verified.memory
    assert inference.predicted == inference.measured and 0.97 <= training.ratio <= 1.03


class ZerosOfASum(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) * (torch.zeros_like(x.sum(0)) + 1)


def test_zeros_like_a_tensor_summed_over_the_batch_has_no_batch():
    # x.sum(0) has no batch dim: its zeros_like is one tensor of 4 (the rule that sizes zeros_like(h) by the batch
    # had read it as 2, the batch, and the product after it as a row not counted)
    summary = cnncalc.summary(ZerosOfASum(), (4,), batch=2)
    assert next(row.output_shape for row in summary.layers if row.kind == "constant") == (4,)
    assert summary.totals.uncounted == ("sum",)


@pytest.mark.parametrize("gathered,in_place", [(True, True), (False, False)], ids=["gathered", "selected"])
def test_messages_summed_at_positions_verify_against_torch_and_every_peer(gathered, in_place):
    # x[:, index] of a buffer of positions had been a row not counted (the buffer read as a 1 × 12 sample), and
    # index_select and index_add, a row each; torch.zeros_like(h) was counted once for the batch, 160 elements
    # where torch makes 480 at a batch of 3
    summary = cnncalc.summary(MessagePassing(gathered, in_place).eval(), (10, 16), batch=3)
    assert {"indexselect", "indexadd"} <= {row.kind for row in summary.layers} and not summary.totals.uncounted
    assert summary.verify().failed == ()
    zeros = [row.activations for row in summary.layers if row.name == "zeros_like"]
    assert zeros == ([torch.zeros_like(torch.empty(3, 10, 16)).numel()] if in_place else [])


def test_lazy_modules_are_sized_as_their_first_call_sizes_them_and_left_lazy():
    # d2l.ai's LeNet: every layer lazy. They had been rows not counted, read on the CPU (no meta stand-in for a
    # parameter not yet sized), and the run left each a Conv2d or Linear holding its lazy hook: the model's next
    # call raised AttributeError ('Conv2d' object has no attribute 'initialize_parameters')
    from cnncalc.importing.handwritten import LazyLeNet

    module = LazyLeNet()
    summary = cnncalc.summary(module, (1, 28, 28), batch=2)
    assert not summary.totals.uncounted and "meta device" in summary.graph.description
    assert summary.verify().failed == ()  # torch's counts and every peer's, on the module sized by a pass
    lazy = [(type(part).__name__, type(part.weight).__name__) for part in module.net if hasattr(part, "weight")]
    assert lazy == [("LazyConv2d", "UninitializedParameter"), ("LazyBatchNorm2d", "UninitializedParameter")] * 2 + \
        [("LazyLinear", "UninitializedParameter"), ("LazyBatchNorm1d", "UninitializedParameter")] * 2 + \
        [("LazyLinear", "UninitializedParameter")]
    assert module(torch.randn(3, 1, 28, 28)).shape == (3, 10)  # its first call sizes it, as before
    assert summary.totals.params == sum(p.numel() for p in module.parameters())


def test_a_lazy_model_verifies_at_another_dtype():
    # verify sizes the module by a pass at its own dtype, then moves it to the one asked: the pass had been given
    # float64 inputs (RuntimeError: Input type (double) and bias type (float) should be the same)
    from cnncalc.importing.handwritten import LazyLeNet

    assert cnncalc.summary(LazyLeNet(), (1, 28, 28), dtype="float64").verify(optimizer=None).failed == ()


class NeverCalled(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.aux = nn.LazyLinear(8), nn.LazyLinear(3)

    def forward(self, x):
        return self.body(x)


def test_a_lazy_module_forward_never_calls_is_refused_by_name():
    # it has no size (sum(p.numel()) raises for it too): one line naming it, not torch's ValueError
    from cnncalc.errors import SpecError

    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in NeverCalled().parameters())
    with pytest.raises(SpecError, match=r"^aux: a lazy module \(LazyLinear\) that forward\(\) never calls"):
        cnncalc.summary(NeverCalled(), (16,))


class LanguageModel(nn.Module):
    """d2l.ai's concise RNN language model (section 9.6): the ids sequence first by X.T, one-hot, a GRU of the
    sequence first, a lazy linear read at each step by iterating its outputs, stacked batch first again."""

    def __init__(self, vocabulary: int = 28, hidden: int = 32):
        super().__init__()
        self.vocabulary, self.rnn, self.linear = vocabulary, nn.GRU(vocabulary, hidden), nn.LazyLinear(vocabulary)

    def forward(self, ids):
        outputs, _ = self.rnn(F.one_hot(ids.T, self.vocabulary).type(torch.float32))
        return torch.stack([self.linear(step) for step in outputs], 1)


class ScratchRNN(nn.Module):
    """d2l.ai's RNN from scratch (section 9.5): its parameters read in a Python loop over the steps, the state
    zeros sized by the one-hot inputs' dim 1, the batch."""

    def __init__(self, vocabulary: int = 28, hidden: int = 32):
        super().__init__()
        self.W_xh, self.W_hh = nn.Parameter(0.01 * torch.randn(vocabulary, hidden)), nn.Parameter(torch.eye(hidden))
        self.b_h, self.W_hq = nn.Parameter(torch.zeros(hidden)), nn.Parameter(0.01 * torch.randn(hidden, vocabulary))

    def forward(self, ids):
        inputs = F.one_hot(ids.T, self.W_xh.shape[0]).type(torch.float32)
        state, outputs = torch.zeros((inputs.shape[1], self.W_hh.shape[0])), []
        for x in inputs:
            state = torch.tanh(torch.matmul(x, self.W_xh) + torch.matmul(state, self.W_hh) + self.b_h)
            outputs.append(torch.matmul(state, self.W_hq))
        return torch.stack(outputs, 1)


@pytest.mark.parametrize("build", [LanguageModel, ScratchRNN], ids=["concise", "scratch"])
def test_the_ids_sequence_first_verify_against_torch_and_every_peer(build):
    # X.T had been a row not counted (a getattr), its one-hot and what read it not known to hold the batch at dim 1;
    # each step of `for x in inputs` a row not counted (pieces of the batch, cnncalc said); inputs.shape[1] not
    # read as the batch (the state zeros 2 × 32 a sample). And the training step, with a parameter each step reads,
    # 0.79 of torch's: autograd sums its gradient from the last step's backward to the first's
    summary = cnncalc.summary(build(), (10,), input_dtype="int64", batch=2)
    assert not summary.totals.uncounted
    verified = summary.verify()
    assert verified.failed == (), verified.failed
