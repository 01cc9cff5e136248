"""VGG-19 audit with Captum: predictions, feature maps, saliency, attention on the object, sanity check,
faithfulness curves and a shortcut probe. ``audit(image, cfg, mask=..., weights=...)`` runs them all."""

from .methods import METHODS

__all__ = ["AuditConfig", "AuditResult", "audit", "audit_dataset", "METHODS"]


def __getattr__(name: str):
    # Lazy (PEP 562): importing the package, e.g. for METHODS in ``--help``, must not import PyTorch and Captum.
    if name in ("AuditConfig", "AuditResult", "audit"):
        from . import run

        return getattr(run, name)
    if name == "audit_dataset":
        from .dataset import audit_dataset

        return audit_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
