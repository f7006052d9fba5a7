"""One mechanic per module; each module's numba hooks sit beside it.

``REGISTRY`` maps a scenario's ``modules:`` keys to module classes, in the order their hooks run
within a phase (phases run in ``scsim.protocol.PHASES`` order) and their ``init`` runs.
"""

from scsim.modules.bookings import Bookings
from scsim.modules.chilling import Chilling
from scsim.modules.courts import Courts
from scsim.modules.expiry import Expiry
from scsim.modules.finance import Finance
from scsim.modules.infractions import Infractions
from scsim.modules.lists import Lists
from scsim.modules.lookups import Lookups
from scsim.modules.peer_rating import PeerRating
from scsim.modules.perks import Perks
from scsim.modules.policy import Policy
from scsim.modules.population import Population
from scsim.modules.purchases import Purchases
from scsim.modules.sanctions import Sanctions
from scsim.modules.scoring import Scoring
from scsim.modules.shunning import Shunning
from scsim.modules.speech import Speech
from scsim.modules.surveillance import Surveillance

REGISTRY = {
    m.name: m
    for m in (
        Population, Surveillance, Chilling, Finance, Purchases, Infractions, Speech, Courts,
        PeerRating, Lookups, Policy, Scoring, Expiry, Lists, Sanctions, Bookings, Perks,
        Shunning,
    )
}  # fmt: skip
