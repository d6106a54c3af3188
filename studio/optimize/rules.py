"""The step rules an optimisation climbs or descends by: DeepDream's normalised pixel step and
Adam.

They are not ``torch.optim`` optimisers on purpose. Every entry point of ``torch.optim`` (even
constructing one) first imports ``torch._dynamo``, 1.9 s on a 2-core CPU: most of a quick
render's start-up. Adam here is the kernel ``torch.optim.Adam(fused=True)`` runs, called as it
calls it, so it gives the same pixels (the suite checks it), and its ``state_dict`` has
``torch.optim``'s layout, so checkpoints move between the two.
"""

from __future__ import annotations

from typing import Literal

import torch

Rule = Literal["adam", "normalised", "decorrelated"]


def normalised(gradient: torch.Tensor) -> torch.Tensor:
    """DeepDream's step direction: each image's gradient scaled to a mean magnitude of 1.

    Example:
        >>> normalised(torch.tensor([[[[2.0, -2.0]]]]))
        tensor([[[[ 1., -1.]]]])
    """
    return gradient / (gradient.abs().mean(dim=(1, 2, 3), keepdim=True) + 1e-8)


def decorrelated(gradient: torch.Tensor) -> torch.Tensor:
    """A pixel gradient (B, 3, H, W) preconditioned by natural images' colour correlation
    ``C Cᵀ`` (Lucid's matrix): the step natural colours would take, mostly luminance.

    A network's raw pixel gradient spends about 40 % of its energy on the green-magenta axis
    (EfficientNet-Lite0 weighs green most), which natural images barely vary along; clamped at
    black only its increases survive (green dreams), at white only its decreases (magenta ones).

    Example (a push on green alone becomes a near-grey one):
        >>> decorrelated(torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1)).flatten().round(decimals=2)
        tensor([0.3200, 0.3500, 0.3300])
    """
    from studio.optimize.param import colour_matrix, mix_colours

    return mix_colours(gradient, colour_matrix(gradient.device, gradient.dtype, preconditioner=True))


class StepRule:
    """What the step loop needs of a rule: ``lr`` (settable each step), ``step()`` after a
    backward, ``zero_grad()``, and a ``state_dict`` to checkpoint."""

    def __init__(self, parameters: list[torch.Tensor], lr: float):
        self.parameters = list(parameters)
        self.lr = lr

    def zero_grad(self) -> None:
        for tensor in self.parameters:
            tensor.grad = None

    GROUP: dict = {}  # the hyperparameters torch.optim's equivalent keeps beside lr

    def group(self) -> dict:
        """:attr:`GROUP` as this rule's parameters make it."""
        return self.GROUP

    def state_dict(self) -> dict:
        group = {"lr": self.lr, **self.group(), "params": list(range(len(self.parameters)))}
        return {"state": self._state(), "param_groups": [group]}

    def load_state_dict(self, saved: dict) -> None:
        self.lr = saved["param_groups"][0]["lr"]
        self._load(saved["state"])

    def _state(self) -> dict:
        return {}

    def _load(self, state: dict) -> None:
        pass


class NormalisedStep(StepRule):
    """DeepDream's pixel step: ``p -= lr · normalised(p.grad)`` per image; with ``colour`` the
    gradient is first :func:`decorrelated`.

    Example:
        >>> image = torch.zeros(1, 1, 1, 2, requires_grad=True)
        >>> image.grad = torch.tensor([[[[3.0, 1.0]]]])
        >>> NormalisedStep([image], lr=0.5).step(); image.detach()
        tensor([[[[-0.7500, -0.2500]]]])
    """

    def __init__(self, parameters: list[torch.Tensor], lr: float, colour: bool = False):
        super().__init__(parameters, lr)
        self.colour = colour

    @torch.no_grad()
    def step(self) -> None:
        for tensor in self.parameters:
            if tensor.grad is not None:
                gradient = decorrelated(tensor.grad) if self.colour else tensor.grad
                tensor.sub_(self.lr * normalised(gradient))


class AdamStep(StepRule):
    """Adam (betas 0.9 and 0.999, eps 1e-8, no weight decay), as ``torch.optim.Adam`` computes
    it with ``fused=True``. Complex parameters step as pairs of reals, as there.

    Example (early steps move about ``lr`` each, whatever the gradient's size):
        >>> x = torch.tensor([1.0], requires_grad=True)
        >>> adam = AdamStep([x], lr=0.1)
        >>> for _ in range(3):
        ...     adam.zero_grad(); (x * x).sum().backward(); adam.step()
        >>> round(x.item(), 4)
        0.7016
    """

    BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
    GROUP = {"betas": (BETA1, BETA2), "eps": EPS, "weight_decay": 0, "amsgrad": False, "maximize": False,
             "foreach": None, "capturable": False, "differentiable": False,
             "decoupled_weight_decay": False}

    def __init__(self, parameters: list[torch.Tensor], lr: float):
        super().__init__(parameters, lr)
        self.moments: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.steps: dict[int, torch.Tensor] = {}

    def group(self) -> dict:
        # torch's fused Adam refuses complex parameters (a spectrum): a checkpoint of one asks
        # torch.optim for its default Adam, which takes them, rather than for one that cannot step
        fused = all(tensor.is_floating_point() for tensor in self.parameters)
        return {**self.GROUP, "fused": True if fused else None}

    @torch.no_grad()
    def step(self) -> None:
        for index, tensor in enumerate(self.parameters):
            if tensor.grad is None:
                continue
            if index not in self.moments:
                self.moments[index] = (torch.zeros_like(tensor), torch.zeros_like(tensor))
                self.steps[index] = torch.zeros((), device=tensor.device)
            mean, square = self.moments[index]
            gradient, param = tensor.grad, tensor
            if torch.is_complex(param):
                gradient, param = torch.view_as_real(gradient), torch.view_as_real(param)
                mean, square = torch.view_as_real(mean), torch.view_as_real(square)
            self.steps[index] += 1
            # one pass over the five tensors where the single-tensor form makes seven (a 2048²
            # spectrum: 7 ms instead of 21 ms a step)
            torch._fused_adam_([param], [gradient], [mean], [square], [], [self.steps[index]], lr=self.lr,
                               beta1=self.BETA1, beta2=self.BETA2, weight_decay=0.0, eps=self.EPS,
                               amsgrad=False, maximize=False)

    def _state(self) -> dict:
        return {index: {"step": self.steps[index], "exp_avg": mean, "exp_avg_sq": square}
                for index, (mean, square) in self.moments.items()}

    def _load(self, state: dict) -> None:
        for index, saved in state.items():
            tensor = self.parameters[int(index)]
            self.moments[int(index)] = (saved["exp_avg"].to(tensor.device).clone(),
                                        saved["exp_avg_sq"].to(tensor.device).clone())
            self.steps[int(index)] = saved["step"].detach().to(tensor.device, torch.float32).clone()


def make_optimiser(rule: Rule, parameters: list[torch.Tensor], lr: float) -> StepRule:
    """Adam or DeepDream's normalised step (in RGB, or ``decorrelated`` in natural colours)."""
    if rule in ("normalised", "decorrelated"):
        return NormalisedStep(parameters, lr, colour=rule == "decorrelated")
    return AdamStep(parameters, lr)
