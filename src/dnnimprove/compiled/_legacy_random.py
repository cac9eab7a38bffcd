"""NumPy's legacy ``np.random.seed(seed); np.random.permutation(n)`` in plain loops the compiled kernel can call.

The course reseeds NumPy's global Mersenne Twister before every epoch's shuffle
(:class:`dnnimprove.CourseRandom`), which costs more in Python than a tiny network's epoch of compiled
arithmetic. :func:`legacy_permutations` is the same computation for :data:`LANES` consecutive seeds at once:
MT19937's ``init_genrand`` seeding, its twist and tempering, and NumPy's shuffle (``i`` from ``n - 1`` down
to 1 swaps with ``random_interval(i)``, a masked draw redrawn while above ``i``), so it gives the very
permutations NumPy gives; tests compare them for many seeds and sizes. Integers are ``int64`` holding 32-bit
values.

Layout, for speed only: the seeds' states are interleaved word by word (``key[word * LANES + lane]``), so
the seeding (a serial chain per seed), the twist and the tempering run the lanes side by side in vector
registers; the shuffle reads the tempered words and swaps without a branch on each draw's acceptance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["legacy_permutations", "LANES", "STATE_WORDS", "SCRATCH_WORDS"]

STATE_WORDS = 624
"""MT19937's state: 624 words."""

LANES = 8
"""Seeds handled side by side: the permutations of this many epochs come from one call."""

SCRATCH_WORDS = 2 * STATE_WORDS * LANES
"""The scratch :func:`legacy_permutations` needs: the lanes' states, then their tempered outputs."""

_SHIFT = 397  # MT19937's middle word


def _twisted(word, following, ahead):
    """MT19937's twist of one state word: the new word ``k`` from words ``k``, ``k + 1`` and ``k + 397`` (mod 624)."""
    y = (word & 0x80000000) | (following & 0x7FFFFFFF)
    return ahead ^ (y >> 1) ^ (-(y & 1) & 0x9908B0DF)


def _twist_lane(key, lane):
    """MT19937's twist of one lane's state (when a long permutation uses up its 624 words)."""
    n, shift, lanes = STATE_WORDS, _SHIFT, LANES
    for k in range(n):
        key[k * lanes + lane] = _twisted(key[k * lanes + lane], key[((k + 1) % n) * lanes + lane],
                                         key[((k + shift) % n) * lanes + lane])


def _temper(y):
    """MT19937's tempering of one state word: its 32-bit output."""
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    return y ^ (y >> 18)


def legacy_permutations(orders, seed, count, scratch):
    """``orders[r, :] = np.random.permutation(n)`` right after ``np.random.seed(seed + r)``, for ``r < count``
    (``count <= LANES``; other rows are left alone). ``orders``: int64 ``(>= count, n)``; ``scratch``: int64,
    :data:`SCRATCH_WORDS` words; ``seed + r`` in ``[0, 2**32)``."""
    n_words, shift, lanes = STATE_WORDS, _SHIFT, LANES
    key = scratch[: n_words * lanes]
    words = scratch[n_words * lanes : 2 * n_words * lanes]
    for lane in range(lanes):  # init_genrand, every lane's chain side by side
        key[lane] = (seed + lane) & 0xFFFFFFFF
    for q in range(lanes, n_words * lanes):
        s = key[q - lanes]
        key[q] = (1812433253 * (s ^ (s >> 30)) + q // lanes) & 0xFFFFFFFF
    for q in range((n_words - shift) * lanes):  # the twist of every lane, in three ranges of words (no index wraps)
        key[q] = _twisted(key[q], key[q + lanes], key[q + shift * lanes])
    for q in range((n_words - shift) * lanes, (n_words - 1) * lanes):
        key[q] = _twisted(key[q], key[q + lanes], key[q - (n_words - shift) * lanes])
    for q in range((n_words - 1) * lanes, n_words * lanes):
        key[q] = _twisted(key[q], key[q - (n_words - 1) * lanes], key[q - (n_words - shift) * lanes])
    for q in range(n_words * lanes):
        words[q] = _temper(key[q])
    n = orders.shape[1]
    for lane in range(count):
        order = orders[lane]
        for i in range(n):
            order[i] = i
        if n < 2:
            continue
        mask = 1
        while mask < n - 1:
            mask = mask * 2 + 1  # the smallest 2**k - 1 >= n - 1
        umask = np.uintp(mask)
        i = np.uintp(n - 1)  # unsigned indices: no negative-index wraparound in the loop
        p = np.uintp(lane)
        end = np.uintp(n_words * lanes)
        while i > 0:
            low = umask >> np.uintp(1)
            while i > low:  # umask stays the smallest 2**k - 1 >= i
                if p >= end:  # this lane's 624 outputs are used up: twist it again
                    _twist_lane(key, lane)
                    for k in range(n_words):
                        words[k * lanes + lane] = _temper(key[k * lanes + lane])
                    p = np.uintp(lane)
                value = np.uintp(words[p]) & umask
                p += np.uintp(lanes)
                accept = value <= i  # a rejected draw swaps order[i] with itself: no branch
                target = value if accept else i
                swap = order[i]
                order[i] = order[target]
                order[target] = swap
                i -= np.uintp(accept)
            umask = low
