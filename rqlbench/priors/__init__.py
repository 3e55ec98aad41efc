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
from rqlbench.priors.policies import (
    DiscreteModulePrior,
    SACPolicyPrior,
    SoftQPolicyPrior,
    actor_gaussian,
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
    "actor_gaussian",
    "check_prior_matches",
    "squashed_gaussian_log_prob",
]
