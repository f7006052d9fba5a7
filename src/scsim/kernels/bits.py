"""Bit counts usable inside numba kernels: ``cttz`` and ``ctpop`` (LLVM intrinsics, one
instruction each on x86-64 with BMI and POPCNT), for walking a citizen's ring ties
(``scsim.kernels.ring_view``) without a loop over every bit."""

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _unary(name: str):
    def typer(typingctx, x):
        if not isinstance(x, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            value = context.cast(builder, args[0], signature.args[0], types.int64)
            extra = [ir.Constant(ir.IntType(1), 1)] if name == "cttz" else []
            fnty = ir.FunctionType(i64, [i64] + [ir.IntType(1)] * len(extra))
            fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.{name}.i64")
            return builder.call(fn, [value, *extra])

        return types.int64(x), codegen

    typer.__name__ = name
    return intrinsic(typer)


cttz = _unary("cttz")
"""Trailing zero bits of a nonzero integer (as int64; undefined for 0)."""

ctpop = _unary("ctpop")
"""Set bits of an integer (as int64)."""


def py_cttz(x: int) -> int:
    """``cttz`` in plain Python (the debug kernel's)."""
    x = int(np.int64(x)) & (2**64 - 1)
    return (x & -x).bit_length() - 1


def py_ctpop(x: int) -> int:
    """``ctpop`` in plain Python (the debug kernel's)."""
    return bin(int(np.int64(x)) & (2**64 - 1)).count("1")
