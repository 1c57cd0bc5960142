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
    # Step 5: the Illinois algorithm on f(x) (Glickman's 2013 revision), f written out inline
    # (it runs a few times for each player of each game of a replay).
    exp = math.exp
    a = math.log(sigma * sigma)
    c = phi * phi + v  # φ² + v
    d2 = delta * delta - c  # Δ² − φ² − v
    inv_tau2 = 1.0 / (tau * tau)
    big_a = a
    if d2 > 0:
        big_b = math.log(d2)
    else:
        k = 1
        while True:
            x = a - k * tau
            ex = exp(x)
            if ex * (d2 - ex) / (2.0 * (c + ex) ** 2) - (x - a) * inv_tau2 >= 0:
                break
            k += 1
        big_b = x
    ex = exp(big_a)
    f_a = ex * (d2 - ex) / (2.0 * (c + ex) ** 2) - (big_a - a) * inv_tau2
    ex = exp(big_b)
    f_b = ex * (d2 - ex) / (2.0 * (c + ex) ** 2) - (big_b - a) * inv_tau2
    while abs(big_b - big_a) > _EPSILON:
        big_c = big_a + (big_a - big_b) * f_a / (f_b - f_a)
        ex = exp(big_c)
        f_c = ex * (d2 - ex) / (2.0 * (c + ex) ** 2) - (big_c - a) * inv_tau2
        if f_c * f_b <= 0:
            big_a, f_a = big_b, f_b
        else:
            f_a /= 2.0
        big_b, f_b = big_c, f_c
    return exp(big_a / 2.0)


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


def rate_game(
    mu: float, phi: float, sigma: float, mu_j: float, phi_j: float, score: float, tau: float
) -> tuple[float, float, float]:
    """`rate_period` for one game, on the Glicko-2 scale and plain floats (the replay's hot
    path); the same arithmetic in the same order, so it gives the very same numbers."""
    g_j = 1.0 / math.sqrt(1.0 + 3.0 * phi_j * phi_j / (math.pi * math.pi))
    e_j = 1.0 / (1.0 + math.exp(-g_j * (mu - mu_j)))
    inv_v = 0.0 + g_j * g_j * e_j * (1.0 - e_j)
    gain = 0.0 + g_j * (score - e_j)
    v = 1.0 / inv_v
    sigma_new = _new_volatility(phi, sigma, v * gain, v, tau)
    phi_star = math.sqrt(phi * phi + sigma_new * sigma_new)
    phi_new = 1.0 / math.sqrt(1.0 / (phi_star * phi_star) + 1.0 / v)
    return mu + phi_new * phi_new * gain, phi_new, sigma_new
