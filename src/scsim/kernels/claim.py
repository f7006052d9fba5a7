"""Atomic work claiming usable inside numba kernels (``atomicrmw add``).

Threads that run the fused kernel take blocks from one shared counter, so a thread that starts
late (a busy machine, a Python thread waking up) takes fewer blocks instead of finishing last.
"""

from numba.core import types
from numba.extending import intrinsic


@intrinsic
def claim(typingctx, counter):
    """Atomically add 1 to ``counter[0]`` (an int64 array) and return its previous value: each
    value is returned to exactly one caller, whatever the threads."""
    if not isinstance(counter, types.Array) or counter.dtype != types.int64:
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        one = context.get_constant(types.int64, 1)
        return builder.atomic_rmw("add", arr.data, one, "seq_cst")

    return types.int64(counter), codegen
