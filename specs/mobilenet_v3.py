"""MobileNetV3 (Howard et al. 2019), large and small, as torchvision builds them.

Inverted residuals with hardswish or ReLU, squeeze-and-excitation (squeeze to make_divisible(C/4),
hardsigmoid gate, applied with `mul`), BatchNorm with eps 0.001, and a 1×1 conv to 6× channels
before the pooled classifier.
"""
from cnncalc.builder import (AdaptiveAvgPool2d, BatchNorm2d, Block, Conv2d, Dropout, Flatten, Hardsigmoid,
                             Hardswish, Linear, Mul, ReLU, Sequential, Spec, Add)

# (in, kernel, expanded, out, squeeze-excite, activation, stride), torchvision's bneck_conf tables
CONFIGS = {
    "large": ([(16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
               (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
               (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
               (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
               (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
               (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
               (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
               (160, 5, 960, 160, True, "HS", 1)], 1280),
    "small": ([(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
               (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
               (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
               (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
               (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
               (96, 5, 576, 96, True, "HS", 1)], 1024),
}
variants = {"mobilenet_v3_large": {"size": "large"}, "mobilenet_v3_small": {"size": "small"}}


def make_divisible(value, divisor=8):
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn(channels, kernel_size=1, stride=1, groups=1, activation="HS", name=None):
    # torchvision's Conv2dNormActivation makes its activation in place
    act = {"HS": Hardswish(inplace=True), "RE": ReLU(inplace=True), None: None}[activation]
    return Sequential(Conv2d(channels, kernel_size, stride=stride, padding=(kernel_size - 1) // 2,
                             groups=groups, bias=False),
                      BatchNorm2d(eps=0.001, momentum=0.01), act, name=name)


def inverted_residual(name, in_channels, kernel, expanded, out, se, activation, stride):
    squeeze = make_divisible(expanded // 4)
    return Block("inverted_residual",
                 in_channels != expanded and conv_bn(expanded, activation=activation, name="expand"),
                 conv_bn(expanded, kernel, stride, groups=expanded, activation=activation, name="depthwise"),
                 # torchvision's SqueezeExcitation calls F.adaptive_avg_pool2d
                 se and [AdaptiveAvgPool2d(1, name="se_pool", functional=True), Conv2d(squeeze, 1, name="se_fc1"),
                         ReLU(name="se_relu"), Conv2d(expanded, 1, name="se_fc2"),
                         Hardsigmoid(name="se_gate"), Mul(from_=["depthwise", "se_gate"], name="se_scale")],
                 conv_bn(out, activation=None, name="project"),
                 stride == 1 and in_channels == out and Add(from_=["project", "input"]),
                 name=name)


def spec(size="large", num_classes=1000, input=(3, 224, 224)):
    blocks, last_channel = CONFIGS[size]
    last_in = blocks[-1][3]
    return Spec(input, [
        Sequential(conv_bn(16, 3, 2, name="0"),
                   *[inverted_residual(str(i + 1), *config) for i, config in enumerate(blocks)],
                   conv_bn(6 * last_in, name=str(len(blocks) + 1)), name="features"),
        AdaptiveAvgPool2d(1, name="avgpool"), Flatten(name="flatten"),
        Sequential(Linear(last_channel), Hardswish(inplace=True), Dropout(0.2), Linear(num_classes),
                   name="classifier"),
    ], name=f"mobilenet_v3_{size}", description=__doc__)
