"""Prior policies: anything that gives log π(a|s) for a batch, frozen while RQL customizes it."""

from rqlbench.priors.base import (
    ACTION_CLAMP,
    ConstantGaussianPrior,
    DiscretePrior,
    Prior,
    SquashedGaussianPrior,
    check_prior_matches,
    squashed_gaussian_log_prob,
)
from rqlbench.priors.sb3 import (
    DiscreteModulePrior,
    SACPolicyPrior,
    SoftQPolicyPrior,
    load_prior,
    prior_from_model,
)

__all__ = [
    "ACTION_CLAMP",
    "ConstantGaussianPrior",
    "DiscreteModulePrior",
    "DiscretePrior",
    "Prior",
    "SACPolicyPrior",
    "SoftQPolicyPrior",
    "SquashedGaussianPrior",
    "check_prior_matches",
    "load_prior",
    "prior_from_model",
    "squashed_gaussian_log_prob",
]
