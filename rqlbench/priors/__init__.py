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
    load_shipped_prior,
    prior_from_model,
    shipped_prior_path,
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
    "load_shipped_prior",
    "prior_from_model",
    "shipped_prior_path",
    "squashed_gaussian_log_prob",
]
