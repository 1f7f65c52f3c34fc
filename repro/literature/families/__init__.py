"""Which reference architecture a paper describes, and its settings as configs.

`repro new` reads the paper's text (title and abstract count triple, the references are
left out) for cues of each family in `templates/scaffold/models/` ("multi-head attention",
"encoder-decoder", "residual block", "LSTM", ...), picks the family with the most evidence
and keeps the sentences that decided it. Nothing fits: the toy stand-in, with a note saying
so. `plan_family` then turns the hyperparameters the paper states (extract/hparams.py) into
live keys of `configs-paper/base.yaml` (each with its sentence and page) and derives the CPU
proxy `configs/base.yaml` by stated scaling (width, depth, vocabulary, sequence length,
steps); `map_ablation` turns an ablation row's settings into the model's real arguments.

The package: catalog.py (the families, choosing one), settings.py (the paper's settings as
arguments), plan.py (configs-paper/ and the proxy). No torch here: `repro new` must not import it (archcheck.py builds the models).
"""

from __future__ import annotations

from .catalog import FAMILIES, MODELS_DIR, Evidence, Family, FamilyChoice, choose_family, find_dataset, paper_sentences
from .plan import FamilyPlan, Scaling, plan_family, proxy_model
from .settings import Setting, accepted_keys, map_ablation, paper_settings

__all__ = ["FAMILIES", "MODELS_DIR", "Evidence", "Family", "FamilyChoice", "FamilyPlan", "Scaling", "Setting",
           "accepted_keys", "choose_family", "find_dataset", "map_ablation", "paper_sentences", "paper_settings",
           "plan_family", "proxy_model"]
