"""Training layered models (neural networks), where backprop's adjoints are the multipliers.

- :mod:`.adjoint`: the ``adjoint`` solver, reduced-space training: the exact KKT multipliers of
  the layer constraints (= backprop) and a weight optimiser;
- :mod:`.fullspace` and :mod:`.fullspace_blocks`: full-space training, the layers as equality
  constraints updated block by block (``alm``, and ``admm`` on networks).
"""
