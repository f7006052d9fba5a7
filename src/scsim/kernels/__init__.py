"""Numba kernels shared by several modules: prefetch, graph gathers, block reductions, atomic
claims."""
