"""Reference values for the statistics tests: t quantiles and Student t CDFs in closed form."""

import math

T975_2 = 4.302653
T975_4 = 2.776445


def F2(t: float) -> float:
    return 0.5 + t / (2 * math.sqrt(2 + t * t))


def F4(t: float) -> float:
    u = t / math.sqrt(1 + t * t / 4)
    return 0.5 + 3 / 8 * u * (1 - t * t / (12 * (1 + t * t / 4)))
