"""Map snapshots for slides and reports: a view as PNG, SVG or PDF.

    checks.py          sizes, presets, formats, the file to write: one-sentence ExportErrors
    frame.py           the layout around the map: title, legend panel, scale bar, sources
    figure.py          build_export_figure (the page's map, framed); page_export for the page
    chromium.py        which Chromium, its quiet flags, no network (a namespace where allowed)
    chromium_launch.py starts Chromium so it dies with its owner (a script, run by kaleido)
    renderer.py        Renderer: figures to bytes in one warm Chromium (kaleido)
    batch.py           `python -m dashboard export`: check, then every view in one browser
    service.py         the render service: at most EXPORT_WORKERS workers, a queue, a timeout
    worker.py          one render worker of the service
    client.py          the page's side of the service: submit, status, result, cancel
    protocol.py        what the service and its clients share: address, key, log
"""
