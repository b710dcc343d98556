// Keyboard shortcuts: each key clicks the control a mouse user would.
// They work wherever focus is, except in a field that takes typing (text,
// search, number and date inputs, textareas, selects, a dropdown and its
// search, contenteditable) and on a slider thumb (its arrows move it).
// The listener runs first (capture on window), so a focused radio or the map
// does not take the arrows: a radio would switch the map mode, the map pan.
(function () {
  var TEXT_TYPES = ['', 'text', 'search', 'number', 'date', 'datetime-local', 'month', 'week', 'time', 'email', 'url', 'tel', 'password'];

  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); }
  }
  function takesTyping(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable) { return true; }
    if (tag === 'INPUT') { return TEXT_TYPES.indexOf((target.getAttribute('type') || '').toLowerCase()) >= 0; }
    // A dropdown's button, list and search keep their keys.
    return !!(target.closest && target.closest('.dash-dropdown-wrapper, .dash-dropdown-content, [role=listbox], [role=combobox]'));
  }
  function activatable(target) {
    // Space and Enter on a focused button, box or link press it, as everywhere else.
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName;
    return tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY' || (tag === 'INPUT' && /^(checkbox|radio|button|submit|file)$/i.test(target.type));
  }
  function togglePresentation() {
    var box = document.querySelector('#present input[type=checkbox]');
    if (box) { box.click(); }
  }
  window.addEventListener('keydown', function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || takesTyping(target)) { return; }
    var onSlider = target && target.getAttribute && target.getAttribute('role') === 'slider';
    var handled = true;
    switch (event.key) {
      case 'ArrowLeft': if (onSlider) { handled = false; } else { click('step-back'); } break;
      case 'ArrowRight': if (onSlider) { handled = false; } else { click('step-forward'); } break;
      case 'ArrowUp': case 'ArrowDown':
        // Radios would change their group; the map would pan. Neither is meant outside a field.
        handled = !onSlider && target && target.type === 'radio';
        break;
      case ' ': if (activatable(target)) { handled = false; } else { click('play'); } break;
      case 'p': case 'P': togglePresentation(); break;
      case 'f': case 'F': click('fullscreen'); break;
      case 'PageUp': click('prev-view'); break;
      case 'PageDown': click('next-view'); break;
      case '?': click('help-button'); break;
      case 'Escape':
        var help = document.getElementById('help');
        var root = document.getElementById('root');
        if (help && !help.hidden) { click('help-button'); }
        else if (root && root.classList.contains('drawer-open')) { click('drawer-close'); }
        else if (document.querySelector('#detail.open')) { click('detail-close'); }
        else { handled = false; }
        break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
