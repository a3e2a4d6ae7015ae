"""Plots drawn into memory as PNG bytes, so that a command writes them with the rest of its
files (checked first, each atomic) and an unwritable place costs nothing half-made."""
import io


def pyplot():
    import matplotlib
    matplotlib.use("Agg")                      # files only: no screen needed
    import matplotlib.pyplot as plt
    from hallpc.glyphs import use_cjk_font
    use_cjk_font(matplotlib)
    return plt


def png(fig, title, fontsize=None):
    """The figure, titled, as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt
    fig.suptitle(title, fontsize=fontsize)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
