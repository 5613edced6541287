from collections import OrderedDict

import torch
import torch.nn as nn

n_channels = 1
n_classes = 26   # letters A-Z

# named layers: print(model) and model.state_dict() show these names
features = nn.Sequential(OrderedDict([
    ("conv1", nn.Conv2d(n_channels, 32, kernel_size=3, padding=1)),
    ("bn1", nn.BatchNorm2d(32)),
    ("relu1", nn.ReLU()),
    ("pool1", nn.MaxPool2d(2)),
    ("conv2", nn.Conv2d(32, 64, kernel_size=3, padding=1)),
    ("bn2", nn.BatchNorm2d(64)),
    ("relu2", nn.ReLU()),
    ("pool2", nn.MaxPool2d(2)),
]))

classifier = nn.Sequential(OrderedDict([
    ("flatten", nn.Flatten()),
    ("fc1", nn.Linear(64 * 7 * 7, 128)),
    ("relu", nn.ReLU()),
    ("drop", nn.Dropout(0.3)),
    ("fc2", nn.Linear(128, n_classes)),
]))

model = nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))
print(model)
print(model.classifier.fc2)

for name, p in model.named_parameters():
    print(f"{name:30s} {tuple(p.shape)}")
