"""Brinson-Fachler performance attribution, single period and Carino-linked multi-period.

The engine works on tables of many attributions at once: :func:`brinson_fachler_table`
attributes every (portfolio, period) pair of a long constituent table in a handful of
groupbys, and :func:`link_carino_table` links each portfolio's periods. :func:`brinson_fachler`
(one pair) and :func:`link_carino` (one portfolio's periods) are thin wrappers over them.

Conventions:

* Weights and returns are decimal fractions. Portfolio and benchmark weights
  must each add up to 1 (within 1e-9) for the effects to add up to the
  active return; cash is a group like any other.
* Single period, per group ``i`` with portfolio/benchmark weights ``wp, wb``,
  group returns ``Rp_i, Rb_i`` and total benchmark return ``Rb``:

  - allocation  = ``(wp - wb) * (Rb_i - Rb)``
  - selection   = ``wb * (Rp_i - Rb_i)``
  - interaction = ``(wp - wb) * (Rp_i - Rb_i)``

  and the effects over all groups add up to ``Rp - Rb`` (arithmetic active
  return).
* A group held on one side only has no return on the other side. Its missing
  return is taken **equal to the other side's return for that group**, so the
  whole effect of holding an off-benchmark group, or of leaving out a
  benchmark group, is allocation: ``wp * (Rp_i - Rb)`` or ``-wb * (Rb_i - Rb)``,
  with zero selection and interaction.
* Multi-period effects are linked with **Carino**'s logarithmic smoothing
  rather than Menchero's: Carino's coefficients are closed-form, do not depend
  on the order of the periods, and make the linked effects add up exactly to
  the compounded active return ``prod(1 + Rp_t) - prod(1 + Rb_t)``. With
  ``k(a, b) = (ln(1 + a) - ln(1 + b)) / (a - b)`` (and ``1 / (1 + a)`` in the
  limit ``a == b``), each period's effect is scaled by ``k(Rp_t, Rb_t) / k(Rp, Rb)``
  where ``Rp, Rb`` are the compounded returns.
"""

from analytics.engine.attribution.brinson import (
    EFFECTS,
    BrinsonAttribution,
    BrinsonAttributionTable,
    brinson_fachler,
    brinson_fachler_table,
)
from analytics.engine.attribution.carino import (
    LinkedAttribution,
    LinkedAttributionTable,
    carino_coefficient,
    link_carino,
    link_carino_table,
)

__all__ = [
    "EFFECTS",
    "BrinsonAttribution",
    "BrinsonAttributionTable",
    "LinkedAttribution",
    "LinkedAttributionTable",
    "brinson_fachler",
    "brinson_fachler_table",
    "carino_coefficient",
    "link_carino",
    "link_carino_table",
]
