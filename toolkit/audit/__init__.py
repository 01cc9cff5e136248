"""VGG-19 audit with Captum: predictions, feature maps, saliency, attention on the object, sanity check,
faithfulness curves and a shortcut probe. ``audit(image, cfg, mask=..., weights=...)`` runs them all."""

from .dataset import audit_dataset
from .run import AuditConfig, AuditResult, audit
from .saliency import METHODS

__all__ = ["AuditConfig", "AuditResult", "audit", "audit_dataset", "METHODS"]
