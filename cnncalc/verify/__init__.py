"""Verification: the only package that imports torch. Import it only when verifying."""

INSTALL_HINT = "verification needs PyTorch: pip install 'cnncalc[verify]'"


def require_torch():
    """Import torch, or fail with one line saying which extra to install."""
    try:
        import torch
    except ImportError:
        from ..errors import SpecError
        raise SpecError(INSTALL_HINT) from None
    return torch
