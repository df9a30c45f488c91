"""DenseNet (Huang et al. 2017) as torchvision builds it.

Each dense layer (BN-ReLU-1×1 conv to bn_size·k channels, BN-ReLU-3×3 conv to k channels) sees the
concatenation of every earlier output in its block; here that is written as the running concat
`x = cat(x, layer(x))`, which has the same shapes and counts as torchvision's `cat(features)`.
Transitions halve channels with a 1×1 conv and the size with a 2×2 average pool.
"""
from cnncalc.builder import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Block, Concat, Conv2d, Flatten,
                             Linear, MaxPool2d, ReLU, Sequential, Spec)

CONFIGS = {121: (32, (6, 12, 24, 16), 64), 161: (48, (6, 12, 36, 24), 96),
           169: (32, (6, 12, 32, 32), 64), 201: (32, (6, 12, 48, 32), 64)}
variants = {f"densenet{depth}": {"depth": depth} for depth in CONFIGS}


def dense_layer(name, growth_rate, bn_size):
    return Block("dense_layer",
                 BatchNorm2d(name="norm1"), ReLU(inplace=True, name="relu1"),
                 Conv2d(bn_size * growth_rate, 1, bias=False, name="conv1"),
                 BatchNorm2d(name="norm2"), ReLU(inplace=True, name="relu2"),
                 Conv2d(growth_rate, 3, padding=1, bias=False, name="conv2"),
                 Concat(from_=["input", "conv2"], name="concat"),
                 name=name)


def transition(name, channels):
    return Block("transition",
                 BatchNorm2d(name="norm"), ReLU(inplace=True, name="relu"),
                 Conv2d(channels, 1, bias=False, name="conv"), AvgPool2d(2, stride=2, name="pool"),
                 name=name)


def spec(depth=121, bn_size=4, num_classes=1000, input=(3, 224, 224)):
    growth_rate, blocks, channels = CONFIGS[depth]
    features = [Conv2d(channels, 7, stride=2, padding=3, bias=False, name="conv0"),
                BatchNorm2d(name="norm0"), ReLU(inplace=True, name="relu0"),
                MaxPool2d(3, stride=2, padding=1, name="pool0")]
    for index, count in enumerate(blocks):
        features.append(Sequential(
            *[dense_layer(f"denselayer{i + 1}", growth_rate, bn_size) for i in range(count)],
            name=f"denseblock{index + 1}", label="dense_block"))
        channels += count * growth_rate
        if index != len(blocks) - 1:
            channels //= 2
            features.append(transition(f"transition{index + 1}", channels))
    features.append(BatchNorm2d(name="norm5"))
    return Spec(input, [
        Sequential(*features, name="features"),
        # torchvision's forward() calls F.relu and F.adaptive_avg_pool2d here, not modules
        ReLU(inplace=True, name="relu", functional=True),
        AdaptiveAvgPool2d(1, name="avgpool", functional=True), Flatten(name="flatten"),
        Linear(num_classes, name="classifier"),
    ], name=f"densenet{depth}", description=__doc__)
