"""One mechanic per module; each module's numba hooks sit beside it.

``REGISTRY`` maps a scenario's ``modules:`` keys to module classes, in the order their hooks run
within a phase (phases run in ``scsim.modules.base.PHASES`` order) and their ``init`` runs.
"""

from scsim.modules.expiry import Expiry
from scsim.modules.infractions import Infractions
from scsim.modules.lists import Lists
from scsim.modules.perks import Perks
from scsim.modules.population import Population
from scsim.modules.purchases import Purchases
from scsim.modules.sanctions import Sanctions
from scsim.modules.scoring import Scoring
from scsim.modules.shunning import Shunning
from scsim.modules.speech import Speech

REGISTRY = {
    m.name: m
    for m in (
        Population,
        Purchases,
        Infractions,
        Speech,
        Scoring,
        Expiry,
        Lists,
        Sanctions,
        Perks,
        Shunning,
    )
}
