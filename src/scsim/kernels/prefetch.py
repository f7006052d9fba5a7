"""Software prefetch usable inside numba kernels (``llvm.prefetch``).

Gathers from far neighbours are DRAM misses (~100 ns each), and at N = 10 M the hardware
prefetchers do not keep up with the sequential streams either; issuing loads for agents a few
steps ahead keeps many misses in flight (measured effect in ``bench/README.md``).
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


def _prefetch_codegen(context, builder, array_type, array, index):
    arr = context.make_array(array_type)(context, builder, array)
    ptr = cgutils.get_item_pointer(
        context, builder, array_type, arr, index, wraparound=False, boundscheck=False
    )
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    # rw=0 (read), locality=3 (keep in all cache levels), cache type=1 (data)
    builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load ``array[index]`` (1-D) into cache; no bounds check, no effect on
    results; an address past the end never faults."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return _prefetch_codegen(context, builder, signature.args[0], args[0], [args[1]])

    return types.void(array, index), codegen


@intrinsic
def prefetch_row(typingctx, array, row):
    """Hint the CPU to load the start of ``array[row]`` of a C-contiguous n-d array."""
    if not isinstance(array, types.Array) or array.layout != "C":
        return None
    if not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        zero = ir.Constant(args[1].type, 0)
        index = [args[1]] + [zero] * (signature.args[0].ndim - 1)
        return _prefetch_codegen(context, builder, signature.args[0], args[0], index)

    return types.void(array, row), codegen


@intrinsic
def prefetch_at(typingctx, array, row, index):
    """Hint the CPU to load ``array[row, index]`` of a 2-D array (no bounds check)."""
    if not isinstance(array, types.Array) or array.ndim != 2:
        return None
    if not isinstance(row, types.Integer) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return _prefetch_codegen(context, builder, signature.args[0], args[0], list(args[1:]))

    return types.void(array, row, index), codegen
