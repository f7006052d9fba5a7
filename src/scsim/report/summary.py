"""What happened, in plain words: the report's opening paragraph and ``scsim run``'s last lines,
generated from the run's daily records. Each count comes with its share of the population and
its rate per 1 000 citizens, and, when a citizen stands for many people
(``population.represents``), in people; sentences for records a run does not have are left out.
"""

from __future__ import annotations

import numpy as np

from scsim.report import travel
from scsim.report.html import esc, section
from scsim.scale import people

Series = dict[str, np.ndarray]


def share(part: float, whole: float) -> str:
    """A share in percent with the digits it needs: 37 %, 4.2 %, 0.37 %, 0.004 %."""
    if whole <= 0:
        return "–"
    x = 100 * part / whole
    if x == 0 or x >= 10:
        return f"{x:.0f} %"
    return f"{x:.2g} %" if x < 1 else f"{x:.1f} %"


class Counter:
    """Counts of citizens said three ways: the count, its share and rate per 1 000, in people."""

    def __init__(self, n: int, factor: float) -> None:
        self.n, self.factor = n, factor

    def citizens(self, count: float) -> str:
        rate = 1000 * count / self.n
        per = f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"
        said = f"{count:,.0f} citizens ({share(count, self.n)}, {per} per 1 000"
        if self.factor > 1:
            said += f"; about {people(count * self.factor)} people"
        return said + ")"

    def acts(self, count: float, what: str) -> str:
        said = f"{count:,.0f} {what}"
        return said + (f" (about {people(count * self.factor)})" if self.factor > 1 else "")


def _total(series: Series, name: str) -> float | None:
    values = series.get(name)
    return None if values is None or len(values) == 0 else float(np.sum(values))


def _sum_of(series: Series, prefix: str) -> float:
    return sum(float(np.sum(series[f"{prefix}{mode}"])) for mode in travel.modes(series))


def _span(days: int) -> str:
    years = round(days / 365, 1)
    if years < 1:
        return f"{days:,} days"
    return f"{days:,} days ({years:g} year{'s' if years != 1 else ''})"


def sentences(series: Series, n: int, factor: float = 1.0) -> list[str]:
    """The summary, one sentence per outcome the run recorded."""
    say = Counter(n, factor)
    days = len(series.get("day", series.get("mean_score", [])))
    out = [f"{n:,} synthetic citizens over {_span(days)}"
           + (f", standing for {people(n * factor)} people." if factor > 1 else ".")]  # fmt: skip
    listed, banned = series.get("listed"), series.get("banned")
    if listed is not None and len(listed):
        out.append(f"At the end, {say.citizens(listed[-1])} were on a blacklist "
                   f"(on the first day: {listed[0]:,}).")  # fmt: skip
    if banned is not None and len(banned):
        text = f"{say.citizens(banned[-1])} were banned from something at the end"
        top = int(np.argmax(banned))
        if banned[top] > banned[-1]:
            text += f"; at the peak, on day {top:,}, {banned[top]:,}"
        out.append(text + ".")
    wrongly = series.get("wrongly_listed")
    if wrongly is not None and len(wrongly) and listed is not None:
        of_list = share(wrongly[-1], listed[-1])
        text = (
            f"{wrongly[-1]:,} of those listed at the end were listed wrongly, on a false record "
            f"or a misidentification ({of_list} of the list)"
            if wrongly[-1]
            else "No one on the list at the end was listed wrongly"
        )
        new = _total(series, "newly_wrongly_listed")
        tail = f"; {say.citizens(new)} were wrongly listed at some point." if new else "."
        out.append(text + tail)
    refused, once = _sum_of(series, "refused_"), _sum_of(series, "newly_refused_")
    if refused:
        out.append(f"Banned citizens had {say.acts(refused, 'flight and train bookings')} refused; "
                   f"{say.citizens(once)} were refused at least once.")  # fmt: skip
    attempted, silenced = _total(series, "speech_attempted"), _total(series, "speech_silenced")
    detected = _total(series, "speech_detected")
    if attempted:
        seen = share(detected or 0, attempted)
        text = f"Of {attempted:,.0f} political posts, {seen} were seen and punished"
        if silenced:
            wanted = share(silenced, attempted + silenced)
            text += (
                f"; {say.acts(silenced, 'more')} were never written for fear "
                f"({wanted} of what people wanted to say)"
            )
        out.append(text + ".")
    cut = _total(series, "ties_cut")
    if cut:
        out.append(f"{say.acts(cut, 'friendships')} were cut.")
    score = series.get("mean_score")
    if score is not None and len(score):
        out.append(f"The mean score went from {score[0]:.0f} to {score[-1]:.0f}.")
    return out


def summary_section(series: Series, n: int, factor: float = 1.0) -> str:
    """The report's opening: the summary as one paragraph."""
    text = " ".join(esc(s) for s in sentences(series, n, factor))
    return section("summary", "What happened", f'<p class="summary">{text}</p>')
