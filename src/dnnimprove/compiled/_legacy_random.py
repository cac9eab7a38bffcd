"""NumPy's legacy ``np.random.seed(seed); np.random.permutation(n)`` in plain loops the compiled kernel can call.

The course reseeds NumPy's global Mersenne Twister before every epoch's shuffle
(:class:`dnnimprove.CourseRandom`), which costs more in Python than a tiny network's epoch of compiled
arithmetic. :func:`legacy_permutation` is the same computation: MT19937's ``init_genrand`` seeding, its
32-bit outputs (twist and tempering) and NumPy's shuffle (``i`` from ``n - 1`` down to 1 swaps with
``random_interval(i)``, a masked draw redrawn while above ``i``), so it gives the very permutation NumPy
gives; tests compare them for many seeds and sizes. Integers are ``int64`` holding 32-bit values.
"""

from __future__ import annotations

__all__ = ["legacy_permutation", "STATE_WORDS"]

STATE_WORDS = 624
"""MT19937's state: 624 words (``key``'s size)."""


def legacy_permutation(order, seed, key):
    """``order[:] = np.random.permutation(order.size)`` right after ``np.random.seed(seed)``; ``key`` is an int64
    scratch array of :data:`STATE_WORDS` words. ``seed`` in ``[0, 2**32)``."""
    n_words, shift = 624, 397
    s = seed & 0xFFFFFFFF
    for p in range(n_words):  # init_genrand
        key[p] = s
        s = (1812433253 * (s ^ (s >> 30)) + p + 1) & 0xFFFFFFFF
    p = n_words
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        mask = i  # the smallest 2**k - 1 >= i
        mask |= mask >> 1
        mask |= mask >> 2
        mask |= mask >> 4
        mask |= mask >> 8
        mask |= mask >> 16
        while True:
            if p == n_words:  # the twist: the next 624 words
                for k in range(n_words - shift):
                    y = (key[k] & 0x80000000) | (key[k + 1] & 0x7FFFFFFF)
                    key[k] = key[k + shift] ^ (y >> 1) ^ (-(y & 1) & 0x9908B0DF)
                for k in range(n_words - shift, n_words - 1):
                    y = (key[k] & 0x80000000) | (key[k + 1] & 0x7FFFFFFF)
                    key[k] = key[k + shift - n_words] ^ (y >> 1) ^ (-(y & 1) & 0x9908B0DF)
                y = (key[n_words - 1] & 0x80000000) | (key[0] & 0x7FFFFFFF)
                key[n_words - 1] = key[shift - 1] ^ (y >> 1) ^ (-(y & 1) & 0x9908B0DF)
                p = 0
            y = key[p]
            p += 1
            y ^= y >> 11  # tempering
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            y ^= y >> 18
            value = y & mask
            if value <= i:
                break
        swap = order[i]
        order[i] = order[value]
        order[value] = swap
