"""Pictures: tensors in, images out, no files. Colour maps and overlays (``colour``), grids and
contact sheets (``layout``), matplotlib charts (``charts``), scatter maps of thumbnails
(``scatter``) and the parts of a training frame (``training``). Writing them is ``output/``'s job.
"""
