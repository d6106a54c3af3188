"""Objectives: values, signs, gradients, composition and per-element targets."""

import torch

from studio.optimize import objectives
from studio.optimize.objectives import reading_order_mask


def acts(values):
    return {"l": values}


def test_channel_picks_one_channel_per_element():
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    same = objectives.channel("l", 1)(acts(maps))
    per_element = objectives.channel("l", torch.tensor([0, 2]))(acts(maps))
    assert torch.allclose(same, maps[:, 1].mean(dim=(1, 2)))
    assert torch.allclose(per_element, torch.stack([maps[0, 0].mean(), maps[1, 2].mean()]))


def test_arithmetic_composes_and_negation_flips_gradients():
    x = torch.randn(1, 2, 3, 3, requires_grad=True)
    up = objectives.channel("l", 0)
    down = -up
    up(acts(x)).sum().backward()
    g_up = x.grad.clone()
    x.grad = None
    down(acts(x)).sum().backward()
    assert torch.allclose(x.grad, -g_up) and (g_up[0, 0] > 0).all() and (g_up[0, 1] == 0).all()
    combo = 2 * objectives.channel("l", 0) - 0.5 * objectives.layer_l2("l") + 1.0
    expected = 2 * x[:, 0].mean() - 0.5 * x.pow(2).mean() + 1.0
    assert torch.allclose(combo(acts(x)), expected.unsqueeze(0))
    assert combo.layers == ("l",)


def test_layer_l2_gradient_points_outward():
    x = torch.tensor([[[[2.0, -3.0]]]], requires_grad=True)
    objectives.layer_l2("l")(acts(x)).sum().backward()
    assert x.grad[0, 0, 0, 0] > 0 and x.grad[0, 0, 0, 1] < 0


def test_first_neurons_in_reading_order():
    mask = reading_order_mask(torch.tensor([1, 4, 5]), 2, 3)
    assert mask[0].tolist() == [[1, 0, 0], [0, 0, 0]]
    assert mask[1].tolist() == [[1, 1, 1], [1, 0, 0]]
    maps = torch.zeros(3, 1, 2, 3)
    maps[:, 0, 0, 0] = 6.0
    scores = objectives.first_neurons("l", 0, torch.tensor([1, 2, 6]))(acts(maps))
    assert torch.allclose(scores, torch.tensor([6.0, 3.0, 1.0]))


def test_neuron_defaults_to_centre():
    maps = torch.zeros(1, 1, 3, 3)
    maps[0, 0, 1, 1] = 5
    assert objectives.neuron("l", 0)(acts(maps)).item() == 5


def test_stacked_scores_each_element_with_its_own_objective():
    a, b = torch.ones(2, 1, 2, 2), 3 * torch.ones(2, 1, 2, 2)
    both = objectives.stacked([objectives.channel("a", 0), objectives.channel("b", 0)])
    assert both({"a": a, "b": b}).tolist() == [1.0, 3.0] and set(both.layers) == {"a", "b"}
