"""The saliency methods' and sanity-check stages' names: a module of its own so that ``styleseg audit --help`` lists them without
importing PyTorch or Captum (:mod:`.saliency` implements them)."""

METHODS = ("saliency", "integrated_gradients", "smoothgrad", "guided_backprop", "guided_gradcam", "gradcam",
           "occlusion")
#: Stages of the randomisation cascade, top first (:mod:`.sanity` randomises the first N of them).
STAGES = ("classifier", "block5", "block4", "block3", "block2", "block1")
