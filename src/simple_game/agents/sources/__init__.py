"""Agents trained elsewhere: RL Zoo runs, plain SB3 scripts, older SB3 releases, the Hugging Face Hub.

- :mod:`.sb3_zip`: an SB3 zip read without loading it, and loaded to act without the objects
  only training needs (the Zoo's pickled schedules, gym-era spaces);
- :mod:`.layout`: frame stack and screen size from the saved observation shape;
- :mod:`.zoo`: the RL Zoo's run folder, ``config.yml`` / ``args.yml`` and env ids;
- :mod:`.hub`: ``hf://org/repo`` through the Hugging Face cache, offline too;
- :mod:`.agent`: :func:`open_agent`, the :class:`ForeignAgent` they describe together.

docs/agents_from_elsewhere.md is the user's guide.
"""

from __future__ import annotations

from simple_game.agents.sources.agent import ForeignAgent, open_agent, read_agent
from simple_game.agents.sources.hub import HubRef, fetch, is_hub_ref, parse_hub_ref
from simple_game.agents.sources.layout import ObservationLayout, observation_layout
from simple_game.agents.sources.sb3_zip import SavedAgent, acting_objects, load_for_acting, read_saved_agent

__all__ = [
    "ForeignAgent",
    "HubRef",
    "ObservationLayout",
    "SavedAgent",
    "acting_objects",
    "fetch",
    "is_hub_ref",
    "load_for_acting",
    "observation_layout",
    "open_agent",
    "parse_hub_ref",
    "read_agent",
    "read_saved_agent",
]
