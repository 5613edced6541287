import torch
import torch.nn as nn

# one shared encoder of face crops, one head per attribute
TASKS = {"age_group": 8, "gender": 2, "emotion": 7, "glasses": 2}
EMBED = 128


class MultiTaskNet(nn.Module):
    def __init__(self, tasks=TASKS, embed=EMBED, activation="relu"):
        super().__init__()
        self.activations = nn.ModuleDict({"relu": nn.ReLU(), "gelu": nn.GELU()})
        self.act_name = activation
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.project = nn.Linear(64, embed)
        self.heads = nn.ModuleDict({name: nn.Linear(embed, n) for name, n in tasks.items()})

    def forward(self, x):
        h = self.activations[self.act_name](self.project(self.backbone(x)))
        return {name: head(h) for name, head in self.heads.items()}


model = MultiTaskNet(activation="gelu")
criterions = {name: nn.CrossEntropyLoss() for name in TASKS}

out = model(torch.randn(4, 3, 64, 64))
for name, logits in out.items():
    print(name, tuple(logits.shape))
