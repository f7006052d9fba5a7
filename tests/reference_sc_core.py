"""A deliberately plain reference implementation of SC-core v1 (shared/bench/SC_CORE.md).

Written from the spec, not from scsim's engine, to cross-check the optimised fused kernel.
It only shares with scsim what must be shared for an agent-by-agent comparison:

- the graph: ``scsim.network.watts_strogatz(n, k, rewire_prob, seed)`` (tested elsewhere);
- the random draws: stream keys from ``scsim.rng.stream_key`` / ``stream_day_key`` and the
  dissent trait from ``scsim.rng.uniform_array``. The per-agent hash (splitmix64 finaliser) and
  the two uniforms it yields are re-implemented below in vectorised numpy.

One day ``t`` (synchronous: every term reads the state at the end of day ``t - 1``):

1. good act, Bernoulli(0.02)                                   -> +2
2. infraction, Bernoulli(0.005), detected Bernoulli(0.6)        -> -15
3. speech, Bernoulli(dissent_i * (score_i - 350) / 600), detected Bernoulli(0.6) -> -25
4. network pull: 0.05 * (mean of neighbours' scores - score_i)  (0 for an isolated agent)
5. friend penalty: -3 per neighbour banned on day t (ban_until > t)
6. score_i = clip(score_i + sum of the above, 350, 950)        (float32)
7. if score_i < 500 and agent i is not banned on day t: ban_until_i = t + 365

Clarity over speed: vectorised per day, nothing else.
"""

from __future__ import annotations

import numpy as np

from scsim.network import watts_strogatz
from scsim.rng import stream_day_key, uniform_array

# --- splitmix64, exactly as described in scsim.rng, in numpy uint64 (wrapping) arithmetic ---

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def agent_hashes(dkey: np.uint64, n: int) -> np.ndarray:
    """Hash of agents 0..n-1 under one day key: mix(dkey + (i + 1) * GOLDEN), mod 2**64."""
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(np.uint64(dkey) + (i + np.uint64(1)) * _GOLDEN)


def u_hi(h: np.ndarray) -> np.ndarray:
    """Uniform on [0, 1) from the high 32 bits."""
    return (h >> np.uint64(32)).astype(np.float64) / 4294967296.0


def u_lo(h: np.ndarray) -> np.ndarray:
    """Uniform on [0, 1) from the low 32 bits."""
    return (h & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0


def day_uniforms(seed: int, stream: str, day: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(u_hi, u_lo) of every agent on one day of a named stream."""
    h = agent_hashes(stream_day_key(seed, stream, day), n)
    return u_hi(h), u_lo(h)


# --- the model ---

COUNT_RECORDS = (
    "banned",
    "newly_banned",
    "listed",
    "newly_listed",
    "speech_attempted",
    "speech_detected",
    "infractions_committed",
    "infractions_detected",
    "purchases_good_deed",
)
"""Per-day counts, named as scsim's records."""


def run_reference(
    n: int,
    days: int,
    seed: int,
    *,
    k: int = 20,
    rewire_prob: float = 0.1,
    initial: float = 650.0,
    score_min: float = 350.0,
    score_max: float = 950.0,
    good_rate: float = 0.02,
    good_effect: float = 2.0,
    infraction_rate: float = 0.005,
    infraction_detect: float = 0.6,
    infraction_penalty: float = -15.0,
    dissent_low: float = 0.0,
    dissent_high: float = 0.02,
    speech_detect: float = 0.6,
    speech_penalty: float = -25.0,
    friend_pull: float = 0.05,
    friend_penalty: float = -3.0,
    list_below: float = 500.0,
    ban_days: int = 365,
    keep_scores: bool = False,
) -> dict[str, np.ndarray]:
    """Run SC-core for ``days`` days; keyword parameters default to SC-core v1.

    Returns per-day arrays (length ``days``) of every name in ``COUNT_RECORDS`` (int64),
    ``mean_score`` (float64), ``friend_penalised`` (agents with at least one banned neighbour
    that day: not an engine record, it shows the friend-penalty path ran), plus ``score``
    (final float32 scores), ``ban_until`` (final, int64) and ``max_degree``. With
    ``keep_scores``, also ``scores``: the float32 scores at the end of every day, (days, n).
    """
    f32 = np.float32

    # Graph: neighbours of i are indices[indptr[i]:indptr[i+1]].
    g = watts_strogatz(n, k, rewire_prob, seed)
    indptr = g.indptr.astype(np.int64)
    nbrs = g.indices.astype(np.int64)
    degree = np.diff(indptr)
    owner = np.repeat(np.arange(n, dtype=np.int64), degree)  # owner[e]: the agent of edge e

    dissent = uniform_array(seed, "speech.dissent", n, dissent_low, dissent_high, dtype=np.float32)

    score = np.full(n, initial, dtype=np.float32)
    ban_until = np.full(n, -1, dtype=np.int64)
    listed_before = np.zeros(n, dtype=bool)

    out = {name: np.zeros(days, dtype=np.int64) for name in COUNT_RECORDS}
    out["friend_penalised"] = np.zeros(days, dtype=np.int64)
    out["mean_score"] = np.zeros(days, dtype=np.float64)
    if keep_scores:
        out["scores"] = np.zeros((days, n), dtype=np.float32)

    for t in range(days):
        # State at the end of day t-1: everything below reads only these two.
        prev = score.copy()
        banned_today = ban_until > t

        # 1. good act
        hi, _ = day_uniforms(seed, "purchases.good_deed", t, n)
        good = hi < good_rate

        # 2. infraction
        hi, lo = day_uniforms(seed, "infractions.infraction", t, n)
        committed = hi < infraction_rate
        inf_detected = committed & (lo < infraction_detect)

        # 3. speech, chilled by the score (probability in float64 from the float32 score)
        chill = (prev.astype(np.float64) - score_min) / (score_max - score_min)
        hi, lo = day_uniforms(seed, "speech.act", t, n)
        spoke = hi < dissent.astype(np.float64) * chill
        sp_detected = spoke & (lo < speech_detect)

        # 4. network pull towards the mean of neighbours' scores (sum in float64, mean in f32)
        nb_sum = np.bincount(owner, weights=prev[nbrs].astype(np.float64), minlength=n)
        nb_mean = (nb_sum / np.maximum(degree, 1)).astype(np.float32)
        pull = np.where(degree > 0, f32(friend_pull) * (nb_mean - prev), f32(0.0))

        # 5. friend penalty per neighbour banned on day t
        nb_banned = np.bincount(owner, weights=banned_today[nbrs], minlength=n).astype(np.int64)
        friend = f32(friend_penalty) * nb_banned.astype(np.float32)

        # 6. new score, in float32
        delta = (
            np.where(good, f32(good_effect), f32(0.0))
            + np.where(inf_detected, f32(infraction_penalty), f32(0.0))
            + np.where(sp_detected, f32(speech_penalty), f32(0.0))
            + pull
            + friend
        ).astype(np.float32)
        score = np.clip(prev + delta, f32(score_min), f32(score_max)).astype(np.float32)

        # 7. list and ban
        listed = score < list_below
        new_ban = listed & ~banned_today
        ban_until[new_ban] = t + ban_days

        out["banned"][t] = np.count_nonzero(ban_until > t)
        out["newly_banned"][t] = np.count_nonzero(new_ban)
        out["listed"][t] = np.count_nonzero(listed)
        out["newly_listed"][t] = np.count_nonzero(listed & ~listed_before)
        out["speech_attempted"][t] = np.count_nonzero(spoke)
        out["speech_detected"][t] = np.count_nonzero(sp_detected)
        out["infractions_committed"][t] = np.count_nonzero(committed)
        out["infractions_detected"][t] = np.count_nonzero(inf_detected)
        out["purchases_good_deed"][t] = np.count_nonzero(good)
        out["friend_penalised"][t] = np.count_nonzero(nb_banned > 0)
        out["mean_score"][t] = score.astype(np.float64).mean()
        if keep_scores:
            out["scores"][t] = score
        listed_before = listed

    out["score"] = score
    out["ban_until"] = ban_until
    out["max_degree"] = int(degree.max(initial=0))
    return out
