"""The saliency methods' names: a module of its own so that ``styleseg audit --help`` lists them without
importing PyTorch or Captum (:mod:`.saliency` implements them)."""

METHODS = ("saliency", "integrated_gradients", "smoothgrad", "guided_backprop", "guided_gradcam", "gradcam",
           "occlusion")
