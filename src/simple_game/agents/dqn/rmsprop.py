"""DeepMind's RMSProp, the optimizer of the DQN papers (Mnih et al. 2015; Graves 2013).

It is the *centred* RMSProp with the epsilon inside the square root::

    g  <- alpha * g  + (1 - alpha) * grad          # running mean of the gradient
    n  <- alpha * n  + (1 - alpha) * grad ** 2     # running mean of its square
    theta <- theta - lr * grad / sqrt(n - g ** 2 + eps)

with ``alpha`` = 0.95 (the paper's "gradient momentum" and "squared gradient momentum") and
``eps`` = 0.01 (its "min squared gradient"). ``torch.optim.RMSprop(centered=True)`` adds
``eps`` *outside* the root, ``sqrt(n - g^2) + eps``: with eps = 0.01 that is a different
optimizer (a step up to 10x larger where the gradient variance is small).
Config: ``policy_kwargs: {optimizer_class: simple_game.agents.dqn.DeepMindRMSprop}`` and
``learning_rate: 2.5e-4``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional

import torch as th

__all__ = ["DeepMindRMSprop"]


class DeepMindRMSprop(th.optim.Optimizer):
    """Centred RMSProp with ``eps`` inside the square root, as in DeepMind's DQN code.

    :param lr: step size (the Nature paper: 2.5e-4).
    :param alpha: decay of both running means (0.95).
    :param eps: added to the centred second moment under the root (0.01).
    :param momentum: optional heavy-ball momentum on the step; DQN used none (0).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2.5e-4,
        alpha: float = 0.95,
        eps: float = 0.01,
        momentum: float = 0.0,
    ) -> None:
        if lr < 0 or not 0.0 <= alpha < 1.0 or eps <= 0 or not 0.0 <= momentum < 1.0:
            raise ValueError(f"DeepMindRMSprop: bad lr={lr}, alpha={alpha}, eps={eps} or momentum={momentum}")
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "momentum": momentum})

    @th.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None) -> Optional[float]:  # type: ignore[override]
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with th.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                state = self.state[param]
                if not state:
                    state["grad_avg"] = th.zeros_like(param)
                    state["square_avg"] = th.zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = th.zeros_like(param)
                grad_avg, square_avg = state["grad_avg"], state["square_avg"]
                grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                denominator = square_avg.addcmul(grad_avg, grad_avg, value=-1).add_(eps).sqrt_()
                if momentum > 0:
                    buffer = state["momentum_buffer"]
                    buffer.mul_(momentum).addcdiv_(grad, denominator)
                    param.add_(buffer, alpha=-lr)
                else:
                    param.addcdiv_(grad, denominator, value=-lr)
        return loss
