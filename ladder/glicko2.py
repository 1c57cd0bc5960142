"""Glicko-2, as in Mark Glickman's "Example of the Glicko-2 system" (2013 revision).

Pure functions on a frozen `Glicko2Rating` (rating r, deviation RD, volatility σ, on the
Glicko scale that players see). `rate_period` is the paper's steps 2 to 8 for one player and
the games of one rating period; `grow_deviation` is step 6 alone, for time without games.

The arithmetic is the paper's, in floating point, with the Illinois algorithm of step 5.1 to
a tolerance ε = 1e-6. The paper's worked example (1500/200/0.06 beating 1400/30 and losing to
1550/100 and 1700/300) comes out at r 1464.0507, RD 151.5165, σ 0.0599934; the paper prints
1464.06 / 151.52 / 0.05999 because it rounds μ' to -0.2069 before converting back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SCALE = 173.7178
"""The paper's conversion factor between the Glicko and Glicko-2 scales (400 / ln 10)."""

_EPSILON = 0.000001


@dataclass(frozen=True, slots=True)
class Glicko2Rating:
    """One rating on the Glicko scale: rating, rating deviation (RD) and volatility σ."""

    rating: float
    deviation: float
    volatility: float


@dataclass(frozen=True, slots=True)
class Game:
    """One game of a period: the opponent's rating before the period and the score (1, ½, 0)."""

    opponent: Glicko2Rating
    score: float


def _g(phi: float) -> float:
    return 1.0 / math.sqrt(1.0 + 3.0 * phi * phi / (math.pi * math.pi))


def _e(mu: float, mu_j: float, g_j: float) -> float:
    return 1.0 / (1.0 + math.exp(-g_j * (mu - mu_j)))


def grow_deviation(player: Glicko2Rating, periods: float, max_deviation: float) -> Glicko2Rating:
    """Return the rating after `periods` rating periods without a game (step 6 only).

    φ* = √(φ² + t·σ²) for t periods, capped at `max_deviation` (a deviation above the one a
    new player starts with would say we know less than about a stranger).
    """
    if periods <= 0:
        return player
    phi = player.deviation / SCALE
    grown = math.sqrt(phi * phi + periods * player.volatility * player.volatility) * SCALE
    return Glicko2Rating(player.rating, min(grown, max_deviation), player.volatility)


def _new_volatility(phi: float, sigma: float, delta: float, v: float, tau: float) -> float:
    # Step 5: the Illinois algorithm on f(x) (Glickman's 2013 revision).
    a = math.log(sigma * sigma)
    phi2 = phi * phi

    def f(x: float) -> float:
        ex = math.exp(x)
        return ex * (delta * delta - phi2 - v - ex) / (2.0 * (phi2 + v + ex) ** 2) - (x - a) / (
            tau * tau
        )

    big_a = a
    if delta * delta > phi2 + v:
        big_b = math.log(delta * delta - phi2 - v)
    else:
        k = 1
        while f(a - k * tau) < 0:
            k += 1
        big_b = a - k * tau
    f_a, f_b = f(big_a), f(big_b)
    while abs(big_b - big_a) > _EPSILON:
        big_c = big_a + (big_a - big_b) * f_a / (f_b - f_a)
        f_c = f(big_c)
        if f_c * f_b <= 0:
            big_a, f_a = big_b, f_b
        else:
            f_a /= 2.0
        big_b, f_b = big_c, f_c
    return math.exp(big_a / 2.0)


def rate_period(
    player: Glicko2Rating,
    games: Iterable[Game],
    tau: float,
    base: float,
    max_deviation: float = math.inf,
) -> Glicko2Rating:
    """Return the player's rating after one rating period with these games (steps 2-8).

    `base` is the rating that maps to μ = 0 (the start rating, 1500 in the paper). With no
    games only the deviation grows, by one period.
    """
    games = list(games)
    if not games:
        return grow_deviation(player, 1, max_deviation)
    mu = (player.rating - base) / SCALE
    phi = player.deviation / SCALE
    sigma = player.volatility
    inv_v = 0.0
    gain = 0.0
    for game in games:
        mu_j = (game.opponent.rating - base) / SCALE
        g_j = _g(game.opponent.deviation / SCALE)
        e_j = _e(mu, mu_j, g_j)
        inv_v += g_j * g_j * e_j * (1.0 - e_j)
        gain += g_j * (game.score - e_j)
    v = 1.0 / inv_v
    delta = v * gain
    sigma_new = _new_volatility(phi, sigma, delta, v, tau)
    phi_star = math.sqrt(phi * phi + sigma_new * sigma_new)
    phi_new = 1.0 / math.sqrt(1.0 / (phi_star * phi_star) + 1.0 / v)
    mu_new = mu + phi_new * phi_new * gain
    deviation = min(phi_new * SCALE, max_deviation)
    return Glicko2Rating(mu_new * SCALE + base, deviation, sigma_new)
