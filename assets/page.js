// The page's own behaviour in the browser: copy link, the date readout, the
// filters drawer, the type list's all / none / only / find, the legend's
// buttons, Reset clearing text not yet committed, and the map's label fades.
// Dash's set_props writes a control's value as if the user had changed it,
// so the view callback does the rest.
(function () {
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function firstDay() {
    var el = document.querySelector('[data-first-day]');
    return el ? el.getAttribute('data-first-day') : null;
  }
  function dayText(offset) {
    // "11 Jan 2025": the page's one date format; offsets count days from the data's first day.
    var first = firstDay();
    if (!first || typeof offset !== 'number' || !isFinite(offset)) { return ''; }
    var d = new Date(first + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + Math.round(offset));
    return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear();
  }
  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) { window.dash_clientside.set_props(id, props); }
  }
  function typeValues() {
    return Array.prototype.map.call(document.querySelectorAll('#types input[type=checkbox]'), function (box) { return box.value; });
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand('copy'); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }
  function setDrawer(open) {
    var root = document.getElementById('root');
    var button = document.getElementById('drawer-button');
    if (!root) { return; }
    root.classList.toggle('drawer-open', open);
    if (button) { button.setAttribute('aria-expanded', open ? 'true' : 'false'); }
    if (open) {
      var first = document.querySelector('#sidebar input, #sidebar button');
      if (first) { first.focus(); }
    } else if (button && button.offsetParent) {
      button.focus();
    }
  }
  function toggledTypes(type) {
    // The checklist's value with `type` flipped, in the list's (the data's) order; null for a type not in it.
    var boxes = Array.prototype.slice.call(document.querySelectorAll('#types input[type=checkbox]'));
    if (!boxes.some(function (box) { return box.value === type; })) { return null; }
    return boxes.filter(function (box) { return box.value === type ? !box.checked : box.checked; })
      .map(function (box) { return box.value; });
  }
  function watchMap() {
    // Once per map Plotly makes: playback hears when a day is drawn, and labels fade only while moving.
    // MapLibre fades labels in over 300 ms after each placement, a repaint per frame.  While the
    // user pans or zooms, frames are drawn anyway; after new data they would double the frames
    // of a repaint (each costly without a fast GPU), so new data's labels appear at once.
    // (_fadeDuration: MapLibre's own field, read on every frame; Plotly sets no fadeDuration.)
    var gd = document.querySelector('#map .js-plotly-plot');
    var subplot = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    var map = subplot && subplot.map;
    if (!map || map.__watched || typeof map._fadeDuration !== 'number') { return; }
    map.__watched = true;
    gd.on('plotly_react', function () {
      playback.waiting = false;
      // A tick came while this day was being drawn: the next day is asked for now, not a whole
      // interval later, so a day that takes a little longer than the interval costs only that.
      if (playback.missed !== null) {
        var n = playback.missed;
        playback.missed = null;
        playback.waiting = true;
        playback.since = Date.now();
        setProps('play-step', {data: n});
      }
    });
    var fade = map._fadeDuration;
    map._fadeDuration = 0;
    map.on('movestart', function () { map._fadeDuration = fade; });
    map.on('moveend', function () { map._fadeDuration = 0; });
    resizeOnlyWhenResized(map);
    drawNewDataOnce(map);
  }
  function resizeOnlyWhenResized(map) {
    // Plotly calls map.resize() on every re-plot.  MapLibre then reads the box (a forced layout),
    // sets the canvas size again, which throws its drawing buffer away (a full redraw, slow
    // without a GPU), and fires a move.  MapLibre follows its box itself (trackResize: its own
    // ResizeObserver, which calls resize with the observed entries), so the bare call is dropped.
    var resize = map.resize;
    if (!map._trackResize || !map._resizeObserver) { return; }
    map.resize = function () {
      return arguments.length === 0 ? map : resize.apply(map, arguments);
    };
  }
  var HOLD_LIMIT_MS = 1000;
  var FIRST_LOAD_LIMIT_MS = 10000;
  function drawNewDataOnce(map) {
    // New event data reaches MapLibre in steps (parsed, tiles cut, labels placed) and it draws a
    // frame after each, of the old data until the last.  Without a fast GPU a frame holds the
    // page's main thread for 100-200 ms, and each step waits behind it: a second or more.  So
    // while the map is still and the event traces' sources (Plotly's "source-<uid>-...") are
    // loading, frames are put off, for at most HOLD_LIMIT_MS at a time: their tiles load without
    // frames, and the new data is drawn in one.  On the page's first load the same holds for every
    // source, and while any source's GeoJSON is still being parsed: the half-loaded map's ten or so
    // frames (water, then borders, then land...) would each take the CPU from the parsing.
    // (_render: MapLibre's frame, which map.triggerRepaint calls.)
    var render = map._render;
    if (typeof render !== 'function') { return; }
    var heldSince = null;
    var firstLoad = true;
    map.once('idle', function () { firstLoad = false; });
    setTimeout(function () { firstLoad = false; }, FIRST_LOAD_LIMIT_MS);
    function loading() {
      var managers = map.style && map.style.tileManagers;
      if (!managers) { return false; }
      return Object.keys(managers).some(function (id) {
        var manager = managers[id];
        if (!firstLoad && id.indexOf('source-') !== 0) { return false; }
        var source = firstLoad && typeof manager.getSource === 'function' && manager.getSource();
        if (source && typeof source.loaded === 'function' && !source.loaded()) { return true; }
        // Only sources reloading tiles they have: a new source (or one shown again) asks for its
        // tiles in a frame, and holding that frame would only wait for the limit.
        return !manager.loaded() && typeof manager.getIds === 'function' && manager.getIds().length > 0;
      });
    }
    map._render = function () {
      var now = Date.now();
      if (!map.isMoving() && (heldSince === null || now - heldSince < HOLD_LIMIT_MS) && loading()) {
        if (heldSince === null) {
          heldSince = now;
          setTimeout(function () { if (heldSince !== null) { map.triggerRepaint(); } }, HOLD_LIMIT_MS + 20);
        }
        return map;
      }
      heldSince = null;
      return render.apply(map, arguments);
    };
  }
  function filterTypes(text) {
    var wanted = (text || '').trim().toLowerCase();
    document.querySelectorAll('#types label').forEach(function (label) {
      var name = ((label.querySelector('.type-name') || label).textContent || '').toLowerCase();
      label.hidden = wanted !== '' && name.indexOf(wanted) < 0;
    });
  }

  // Playback: the next day is asked for once the map has drawn the last one (Plotly's
  // plotly_react on the map resolves after MapLibre has rendered the new data).
  var playback = {waiting: false, since: 0, missed: null};
  var PLAY_STEP_LIMIT_MS = 3000;  // a step with no re-plot (nothing to draw) frees the next one after this

  window.dashboardPage = {
    playStep: function (n) {
      var now = Date.now();
      if (playback.waiting && now - playback.since < PLAY_STEP_LIMIT_MS) { playback.missed = n; return window.dash_clientside.no_update; }
      playback.waiting = true;
      playback.since = now;
      playback.missed = null;
      return n;
    },
    dayText: dayText,
    isoText: function (iso) {
      // The table keeps ISO dates (they sort) and shows them as 11 Jan 2025.
      var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || '');
      return m ? parseInt(m[3], 10) + ' ' + MONTHS[parseInt(m[2], 10) - 1] + ' ' + m[1] : (iso || '');
    },
    readout: function (range) {
      if (!Array.isArray(range) || range.length !== 2) { return window.dash_clientside.no_update; }
      var a = dayText(range[0]), b = dayText(range[1]);
      return a === b ? a : a + ' – ' + b;
    },
    copyLink: function () {
      return copyText(window.location.href).then(function (done) {
        return done ? 'Link copied.' : 'Copy this link from the address bar.';
      });
    }
  };

  // The grid evaluates its formatters among these functions only.
  var gridFunctions = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
  gridFunctions.isoText = window.dashboardPage.isoText;

  // Clicks, caught before Dash's option lists see them (capture on window).
  window.addEventListener('click', function (event) {
    var target = event.target;
    if (!target || !target.closest) { return; }
    var only = target.closest('#types button.only');
    if (only) {
      event.preventDefault();
      event.stopPropagation();
      setProps('types', {value: [only.getAttribute('data-type')]});
      return;
    }
    // The legend's types tick and untick the checklist, the one place the filter lives.
    var legendType = target.closest('#map-legend button.legend-type');
    if (legendType) {
      var ticked = toggledTypes(legendType.getAttribute('data-type'));
      if (ticked) { setProps('types', {value: ticked}); }
      return;
    }
    if (target.closest('#legend-country-level')) { setProps('country-level-request', {data: Date.now()}); return; }
    if (target.closest('#types-all')) { setProps('types', {value: typeValues()}); return; }
    if (target.closest('#types-none')) { setProps('types', {value: []}); return; }
    if (target.closest('#drawer-button')) { setDrawer(!document.getElementById('root').classList.contains('drawer-open')); return; }
    if (target.closest('#drawer-close') || target.closest('#drawer-backdrop')) { setDrawer(false); return; }
    if (target.closest('#reset')) {
      // Text typed but not yet committed (no Enter, no blur) is cleared too.
      ['text', 'types-search'].forEach(function (id) {
        var field = document.getElementById(id);
        if (field && field.value) {
          var setter = Object.getOwnPropertyDescriptor(window.HTMLInputElement.prototype, 'value').set;
          setter.call(field, '');
          field.dispatchEvent(new Event('input', {bubbles: true}));
        }
      });
      filterTypes('');
    }
  }, true);

  document.addEventListener('input', function (event) {
    if (event.target && event.target.id === 'types-search') { filterTypes(event.target.value); }
  });
  // The list is drawn again with new counts: keep the filter applied.  The map, once Plotly has made it.
  new MutationObserver(function () {
    var search = document.getElementById('types-search');
    if (search && search.value) { filterTypes(search.value); }
    watchMap();
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
