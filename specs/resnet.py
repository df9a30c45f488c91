"""ResNet, ResNeXt, Wide ResNet and SE-ResNet: one family, written as torchvision writes it.

torchvision's v1.5: the stride sits in the 3×3 conv of a bottleneck, and a 1×1 projection with
BatchNorm (`downsample`) replaces the identity shortcut where the shape changes. ResNeXt widens the
3×3 conv into `groups` paths; Wide ResNet doubles the bottleneck width. SE-ResNet-50 (Hu et al.) adds
squeeze-and-excitation (reduction 16) to every bottleneck, in the common (Caffe-style) implementation
with 28,088,024 parameters: stride in the first 1×1 conv, and a ceil-mode 3×3 max-pool in the stem.
"""
from cnncalc.builder import (AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d,
                             Mul, ReLU, Residual, Sequential, Sigmoid, Spec)

STAGES = {18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]), 50: ("bottleneck", [3, 4, 6, 3]),
          101: ("bottleneck", [3, 4, 23, 3]), 152: ("bottleneck", [3, 8, 36, 3])}

variants = {
    "resnet18": {"depth": 18}, "resnet34": {"depth": 34}, "resnet50": {"depth": 50},
    "resnet101": {"depth": 101}, "resnet152": {"depth": 152},
    "resnext50_32x4d": {"depth": 50, "groups": 32, "width_per_group": 4},
    "resnext101_32x8d": {"depth": 101, "groups": 32, "width_per_group": 8},
    "resnext101_64x4d": {"depth": 101, "groups": 64, "width_per_group": 4},
    "wide_resnet50_2": {"depth": 50, "width_per_group": 128},
    "wide_resnet101_2": {"depth": 101, "width_per_group": 128},
    "se_resnet50": {"depth": 50, "se_reduction": 16, "caffe_style": True},
}


def squeeze_excitation(channels, reduction):
    """Hu et al.: global pool, 1×1 conv down by `reduction`, ReLU, 1×1 conv up, sigmoid, rescale."""
    return [
        AdaptiveAvgPool2d(1, name="se_pool"),
        Conv2d(channels // reduction, 1, name="se_fc1"),
        ReLU(inplace=True, name="se_relu"),
        Conv2d(channels, 1, name="se_fc2"),
        Sigmoid(name="se_gate"),
        Mul(from_=["bn3", "se_gate"], name="se_scale"),
    ]


def basic(name, channels, stride, project, **_):
    return Residual(
        Conv2d(channels, 3, stride=stride, padding=1, bias=False, name="conv1"),
        BatchNorm2d(name="bn1"), ReLU(inplace=True, name="relu"),
        Conv2d(channels, 3, padding=1, bias=False, name="conv2"), BatchNorm2d(name="bn2"),
        shortcut=project and [Conv2d(channels, 1, stride=stride, bias=False), BatchNorm2d()],
        post=[ReLU(inplace=True)], name=name, label="basic")


def bottleneck(name, channels, stride, project, groups, width_per_group, se_reduction, caffe_style):
    width = channels * width_per_group // 64 * groups
    out = channels * 4
    stride1, stride3 = (stride, 1) if caffe_style else (1, stride)
    return Residual(
        Conv2d(width, 1, stride=stride1, bias=False, name="conv1"), BatchNorm2d(name="bn1"),
        ReLU(inplace=True, name="relu1"),
        Conv2d(width, 3, stride=stride3, padding=1, groups=groups, bias=False, name="conv2"),
        BatchNorm2d(name="bn2"), ReLU(inplace=True, name="relu2"),
        Conv2d(out, 1, bias=False, name="conv3"), BatchNorm2d(name="bn3"),
        se_reduction and squeeze_excitation(out, se_reduction),
        shortcut=project and [Conv2d(out, 1, stride=stride, bias=False), BatchNorm2d()],
        post=[ReLU(inplace=True)], name=name, label="bottleneck")


def spec(depth=50, groups=1, width_per_group=64, se_reduction=0, caffe_style=False, num_classes=1000,
         input=(3, 224, 224)):
    if depth not in STAGES:
        raise ValueError(f"depth must be one of {sorted(STAGES)}, got {depth}")
    kind, counts = STAGES[depth]
    block, expansion = (basic, 1) if kind == "basic" else (bottleneck, 4)
    stages, in_channels = [], 64
    for stage, (channels, count) in enumerate(zip([64, 128, 256, 512], counts)):
        stride = 1 if stage == 0 else 2
        blocks = []
        for index in range(count):
            first = index == 0
            project = first and (stride != 1 or in_channels != channels * expansion)
            blocks.append(block(str(index), channels, stride if first else 1, project, groups=groups,
                                width_per_group=width_per_group, se_reduction=se_reduction,
                                caffe_style=caffe_style))
            in_channels = channels * expansion
        stages.append(Sequential(*blocks, name=f"layer{stage + 1}", label="stage"))
    stem_pool = (MaxPool2d(3, stride=2, ceil_mode=True, name="maxpool") if caffe_style
                 else MaxPool2d(3, stride=2, padding=1, name="maxpool"))
    return Spec(input, [
        Conv2d(64, 7, stride=2, padding=3, bias=False, name="conv1"), BatchNorm2d(name="bn1"),
        ReLU(inplace=True, name="relu"), stem_pool,
        stages,
        AdaptiveAvgPool2d(1, name="avgpool"), Flatten(name="flatten"), Linear(num_classes, name="fc"),
    ], name=f"resnet{depth}", description=__doc__)
