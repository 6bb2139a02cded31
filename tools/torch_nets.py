"""The published networks rebuilt from PyTorch's own layers (REFERENCE §3-6, §8), with the published state-dict
names: the PyTorch side of the parity fixtures (tools/make-torch-references.py) and of the training-step
comparison (tools/torch-train-step.py). Each class mirrors the module of the same name in src/nets/.
"""
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

LEAKY = 0.2
SE_RATIO = 16


conv = nn.Conv2d


class SpectralNorm(nn.Module):
    """The published wrapper's layout, `<layer>.module.weight_bar/_u/_v`, around torch's own spectral_norm (one
    power iteration per training forward). Its state dict is renamed to the published names by `published()`."""

    def __init__(self, layer):
        super().__init__()
        self.module = spectral_norm(layer)

    def forward(self, x):
        return self.module(x)


def sn_conv(cin, cout, k, **kw):
    return SpectralNorm(nn.Conv2d(cin, cout, k, **kw))


class SqueezeExcitation(nn.Module):
    """REFERENCE §3: global average pool, 1×1 C→C/16 (bias), ReLU, 1×1 C/16→C (bias), sigmoid, scale."""

    def __init__(self, channels, make_conv=conv):
        super().__init__()
        self.conv1 = make_conv(channels, channels // SE_RATIO, 1)
        self.conv2 = make_conv(channels // SE_RATIO, channels, 1)
        self.pool, self.relu, self.sigmoid = nn.AdaptiveAvgPool2d(1), nn.ReLU(), nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.conv2(self.relu(self.conv1(self.pool(x)))))


class ResNeXtBottleneck(nn.Module):
    """REFERENCE §3/§4: 1×1 C→C/2, LReLU, grouped (2+s)×(2+s) conv (dilation d, padding d), LReLU, 1×1 C/2→C, SE,
    plus the identity (AvgPool2d(2) when strided)."""

    def __init__(self, channels, cardinality, dilation=1, stride=1, make_conv=conv):
        super().__init__()
        d = channels // 2
        self.conv_reduce = make_conv(channels, d, 1, bias=False)
        self.conv_conv = make_conv(d, d, 2 + stride, stride=stride, padding=dilation, dilation=dilation, groups=cardinality, bias=False)
        self.conv_expand = make_conv(d, channels, 1, bias=False)
        self.shortcut = nn.AvgPool2d(2) if stride == 2 else nn.Identity()
        self.selayer = SqueezeExcitation(channels, make_conv)
        self.lrelu = nn.LeakyReLU(LEAKY)

    def forward(self, x):
        y = self.lrelu(self.conv_reduce(x))
        y = self.lrelu(self.conv_conv(y))
        return self.shortcut(x) + self.selayer(self.conv_expand(y))


# --- v1 generator, REFERENCE §3 ---------------------------------------------------------------------------


def tunnel(cin, width, cardinality, dilations):
    blocks = [ResNeXtBottleneck(width, cardinality, d) for d in dilations]
    return nn.Sequential(conv(cin, width, 3, padding=1), nn.LeakyReLU(LEAKY), nn.Sequential(*blocks),
                         conv(width, 2 * width, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(LEAKY))


class FeatureConv(nn.Module):
    def __init__(self, channels):
        super().__init__()
        c = channels
        self.network = nn.Sequential(conv(c, c, 3, padding=1, bias=False), nn.ReLU(), conv(c, c, 3, stride=2, padding=1, bias=False), nn.ReLU(),
                                     conv(c, c, 3, padding=1, bias=False), nn.ReLU())

    def forward(self, x):
        return self.network(x)


class GeneratorV1(nn.Module):
    def __init__(self, input_channels, encoder_widths, feature_channels, tunnels):
        super().__init__()
        e, f = encoder_widths, feature_channels
        self.feature_conv = FeatureConv(f)
        for i, width in enumerate(e):
            cin = input_channels if i == 0 else e[i - 1]
            setattr(self, f'to{i}', nn.Sequential(conv(cin, width, 3, stride=1 if i == 0 else 2, padding=1), nn.LeakyReLU(LEAKY),
                                                  conv(width, width, 3, padding=1), nn.LeakyReLU(LEAKY)))
        c = tunnels[0][0] // 2
        up = lambda cin, cout, s: nn.ConvTranspose2d(cin, cout, 3, stride=s, padding=1, output_padding=s - 1)
        self.deconv_for_decoder = nn.Sequential(up(c, c // 2, 2), nn.LeakyReLU(LEAKY), up(c // 2, c // 4, 2), nn.LeakyReLU(LEAKY),
                                                up(c // 4, c // 8, 2), nn.LeakyReLU(LEAKY), up(c // 8, 3, 1), nn.Tanh())
        inputs = [e[4] + f, tunnels[0][0] // 2 + e[3], tunnels[1][0] // 2 + e[2], tunnels[2][0] // 2 + e[1]]
        for i, (width, cardinality, dilations) in enumerate(tunnels):
            setattr(self, f'tunnel{4 - i}', tunnel(inputs[i], width, cardinality, dilations))
        self.exit = conv(tunnels[3][0] // 2 + e[0], 3, 3, padding=1)

    def forward(self, x, features):
        skips = []
        for i in range(5):
            x = getattr(self, f'to{i}')(x)
            skips.append(x)
        deepest = self.tunnel4(torch.cat([skips[4], self.feature_conv(features)], 1))
        y = self.tunnel3(torch.cat([deepest, skips[3]], 1))
        y = self.tunnel2(torch.cat([y, skips[2]], 1))
        y = self.tunnel1(torch.cat([y, skips[1]], 1))
        return torch.tanh(self.exit(torch.cat([y, skips[0]], 1))), self.deconv_for_decoder(deepest)


DILATED = [1, 1, 2, 2, 4, 4, 2, 1]


def published_generator(width=64):
    """src/nets/generator-v1.ts generatorV1Config: widths from `width` (64 published), blocks 20/8/8/5."""
    tunnels = [(8 * width, 32, [1] * 20), (4 * width, 32, DILATED), (2 * width, 32, DILATED), (width, 16, [1, 2, 4, 2, 1])]
    return GeneratorV1(6, [width // 2, width, 2 * width, 4 * width, 8 * width], 8 * width, tunnels)


# --- v1 discriminator, REFERENCE §4 -----------------------------------------------------------------------


class DiscriminatorV1(nn.Module):
    def __init__(self, width, cardinality):
        super().__init__()
        lrelu = lambda: nn.LeakyReLU(LEAKY)
        block = lambda c, s: ResNeXtBottleneck(c, cardinality, stride=s, make_conv=sn_conv)
        layers = [sn_conv(3, width, 3, padding=1), lrelu(), sn_conv(width, width, 3, stride=2, padding=0), lrelu()]
        for i, c in enumerate([width, 2 * width, 4 * width]):
            layers += [block(c, 1), block(c, 2), sn_conv(c, 2 * c, 1, padding=1 if i == 2 else 0, bias=False), lrelu()]
        layers += [block(8 * width, 1), block(8 * width, 2), block(8 * width, 1), block(8 * width, 1)]
        self.feed = nn.Sequential(*layers)
        self.out = nn.Linear(8 * width, 1)

    def forward(self, x):
        return self.out(F.adaptive_avg_pool2d(self.feed(x), 1).flatten(1))


def published(state):
    """torch's spectral_norm names (weight_orig, then buffers weight_u, weight_v) → the published wrapper's
    (bias, weight_u, weight_v, weight_bar: its order)."""
    out, held = {}, {}
    for name, t in state.items():
        if name.endswith('.weight_orig'):
            held[name[:-len('weight_orig')]] = t
        elif name.endswith('.weight_v'):
            prefix = name[:-len('weight_v')]
            out[prefix + 'weight_u'] = state[prefix + 'weight_u']
            out[name] = t
            out[prefix + 'weight_bar'] = held.pop(prefix)
        elif not name.endswith('.weight_u'):
            out[name] = t
    assert not held
    return out


# --- SE-ResNeXt extractor, REFERENCE §5 ---------------------------------------------------------------------


class SEBottleneck(nn.Module):
    def __init__(self, cin, planes, cardinality, stride):
        super().__init__()
        mid, out = 2 * planes, 4 * planes
        self.conv1, self.bn1 = conv(cin, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = conv(mid, mid, 3, stride=stride, padding=1, groups=cardinality, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(mid, out, 1, bias=False), nn.BatchNorm2d(out)
        self.selayer = SqueezeExcitation(out)
        self.downsample = (nn.Sequential(conv(cin, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or cin != out else None)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.selayer(self.bn3(self.conv3(y)))
        return self.relu((x if self.downsample is None else self.downsample(x)) + y)


class SEResNeXt(nn.Module):
    """Returns the stem (after ReLU, before max pooling) and each stage's output."""

    def __init__(self, input_channels, width, cardinality, stages):
        super().__init__()
        self.conv1, self.bn1 = conv(input_channels, width, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(width)
        self.relu, self.maxpool = nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)
        channels = width
        for s, blocks in enumerate(stages):
            planes = width * 2 ** s
            layer = [SEBottleneck(channels if b == 0 else 4 * planes, planes, cardinality, 2 if s and b == 0 else 1) for b in range(blocks)]
            setattr(self, f'layer{s + 1}', nn.Sequential(*layer))
            channels = 4 * planes
        self.stage_count = len(stages)

    def forward(self, x):
        outs = [self.relu(self.bn1(self.conv1(x)))]
        y = self.maxpool(outs[0])
        for s in range(self.stage_count):
            y = getattr(self, f'layer{s + 1}')(y)
            outs.append(y)
        return outs


# --- VGG16 features[:9], REFERENCE §6 -----------------------------------------------------------------------


class Vgg16Features(nn.Module):
    def __init__(self, width):
        super().__init__()
        w = width
        self.features = nn.Sequential(conv(3, w, 3, padding=1), nn.ReLU(), conv(w, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      conv(w, 2 * w, 3, padding=1), nn.ReLU(), conv(2 * w, 2 * w, 3, padding=1), nn.ReLU())
        self.register_buffer('mean', torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def forward(self, image):
        return self.features(((image + 1) / 2 - self.mean) / self.std)


# --- FFDNet (RGB), REFERENCE §8 -----------------------------------------------------------------------------


class IntermediateDnCNN(nn.Module):
    def __init__(self, width, layers):
        super().__init__()
        stack = [conv(15, width, 3, padding=1, bias=False), nn.ReLU()]
        for _ in range(layers - 2):
            stack += [conv(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        stack.append(conv(width, 12, 3, padding=1, bias=False))
        self.itermediate_dncnn = nn.Sequential(*stack)

    def forward(self, x):
        return self.itermediate_dncnn(x)


class FFDNet(nn.Module):
    """Predicts the noise; the σ map and the 2×2 downsampling as the FFDNet authors' code builds them (channel
    4c + 2i + j holds x[c, i::2, j::2]), the upsampling by nn.PixelShuffle."""

    def __init__(self, width, layers):
        super().__init__()
        self.intermediate_dncnn = IntermediateDnCNN(width, layers)
        self.upsample = nn.PixelShuffle(2)

    def forward(self, x, sigma):
        n, c, h, w = x.shape
        down = x.new_zeros(n, 4 * c, h // 2, w // 2)
        for idx, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
            down[:, idx::4] = x[:, :, i::2, j::2]
        noise_map = sigma.view(1, 1, 1, 1).expand(n, c, h // 2, w // 2)
        return self.upsample(self.intermediate_dncnn(torch.cat([noise_map, down], 1)))


def denoise(model, x, sigma):
    """clamp(x − noise, 0, 1), an odd height or width padded by repeating the last row or column, cropped after."""
    h, w = x.shape[2:]
    padded = F.pad(x, (0, w % 2, 0, h % 2), mode='replicate')
    noise = model(padded, sigma)
    return padded, noise, torch.clamp(padded - noise, 0, 1)[:, :, :h, :w]


def set_precision(tf32):
    """PyTorch's two fp32 modes on NVIDIA GPUs: its default (tf32=True: cuDNN convolutions in TF32, matmuls in
    fp32) or strict IEEE fp32 everywhere (tf32=False, what our kernels compute). cudnn.benchmark picks the fastest
    algorithm per shape in both: PyTorch's best case."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = False


def median_seconds(run, device, runs, warmup):
    """The median wall time of `runs` calls of run() after `warmup` untimed ones, each waited for on a GPU;
    returns it with the last call's result."""
    times, result = [], None
    for i in range(warmup + runs):
        if device.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = run()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times), result


def device_name(device):
    return torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'


# --- seeded test weights, shared by the reference scripts ---------------------------------------------------


def randomize(module, xavier_gain=None):
    """Xavier-uniform conv weights where the recipe uses them (REFERENCE §6; `xavier_gain` None: PyTorch's default
    init), biases uniform in ±0.1, batch-norm γ, β, statistics and the counter drawn."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and xavier_gain is not None:
            nn.init.xavier_uniform_(m.weight_orig if hasattr(m, 'weight_orig') else m.weight, xavier_gain)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None:
            nn.init.uniform_(m.bias, -0.1, 0.1)
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + 1.5 * torch.rand(c)
            m.bias.data = 0.5 * torch.randn(c)
            m.running_mean.copy_(0.5 * torch.randn(c))
            m.running_var.copy_(0.5 + 1.5 * torch.rand(c))
            m.num_batches_tracked.fill_(int(torch.randint(1, 10 ** 6, ())))


def contiguous(tensors):
    """Own, contiguous storages: torch.save writes a view's whole storage."""
    return {k: v.detach().clone().contiguous() for k, v in tensors.items()}
