// The map's first draw in one pass.  Plotly adds a new map's event traces only once MapLibre's
// `load` has fired, that is once the whole basemap has been loaded and drawn: the page then waits
// for a second round of tiling and frames (each costly without a GPU) before the events show,
// 0.4-0.5 s of a first visit.  Here the traces are added as soon as the style is in, so their
// sources load beside the basemap's and the first whole frame has them; when `load` comes,
// Plotly's own adding of the same traces is skipped (it would send the same data again).
// Uses Plotly's map subplot (fillBelowLookup, updateData), as page.js does; Regions mode, whose
// shapes Plotly fetches first, keeps Plotly's own order.
(function () {
  function sameTraces(a, b) {
    return a.length === b.length && a.every(function (calc, i) { return calc === b[i]; });
  }
  function earlyTraces() {
    var gd = document.querySelector('#map .js-plotly-plot');
    var subplot = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    var map = subplot && subplot.map;
    if (!map || map.__firstDraw || typeof subplot.updateData !== 'function' || typeof subplot.fillBelowLookup !== 'function') { return; }
    map.__firstDraw = true;
    if (map.loaded()) { return; }
    map.once('style.load', function () {
      if (map.loaded() || !gd.calcdata) { return; }
      var calc = gd.calcdata.filter(function (c) { return c[0] && c[0].trace && c[0].trace.subplot === subplot.id; });
      if (calc.some(function (c) { return typeof c[0].trace.geojson === 'string'; })) { return; }
      try {
        subplot.fillBelowLookup(calc, gd._fullLayout);
        subplot.updateData(calc);
      } catch (error) {
        return;  // Plotly adds them at `load` as usual
      }
      var updateData = subplot.updateData;
      subplot.updateData = function (next) {  // once: Plotly's call at `load`, with these same traces
        subplot.updateData = updateData;
        return sameTraces(next, calc) ? undefined : updateData.call(this, next);
      };
    });
  }
  // Plotly makes the map (and MapLibre starts reading its style) within one task: this runs right after.
  new MutationObserver(earlyTraces).observe(document.documentElement, {childList: true, subtree: true});
})();
