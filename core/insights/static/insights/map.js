/* The network map: cytoscape.js draws the JSON from the map API. The page's tables carry
   the same data for screen readers and browsers without JavaScript. */
(function () {
  "use strict";
  var box = document.getElementById("network-map");
  if (!box || !window.cytoscape || !window.gettext) return;
  var wrap = box.parentElement;
  var tooltip = wrap.querySelector(".map-tooltip");
  var legend = document.querySelector(".map-legend");
  var toggle = document.querySelector(".colour-by");
  // Colour-blind-safe palette (Okabe-Ito, then Tableau) with grey kept for "not shown".
  var PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                 "#f0e442", "#000000", "#8c564b", "#17becf", "#bcbd22"];
  var GREY = "#aeb7bd";
  // Words come from Django's JavaScript catalogue (/i18n/catalog.js), in the page's language.
  var _ = window.gettext, ngettext = window.ngettext, fmt = window.interpolate;

  function hours(minutes) {
    var h = Math.floor(minutes / 60), m = minutes % 60;
    var hText = fmt(_("%s h"), [h]), mText = fmt(_("%s min"), [m]);
    return (h ? hText : "") + (m || !h ? (h ? " " : "") + mText : "");
  }

  function groupsBy(nodes, key) {
    var counts = {};
    nodes.forEach(function (n) {
      if ((n.kind === "member" || n.kind === "group") && n[key]) counts[n[key]] = (counts[n[key]] || 0) + 1;
    });
    var names = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || a.localeCompare(b); });
    var colours = {};
    names.slice(0, PALETTE.length - 1).forEach(function (name, i) { colours[name] = PALETTE[i]; });
    var other = names.length >= PALETTE.length
      ? (key === "organisation" ? _("Other organisations") : _("Other professions")) : null;
    return {colours: colours, other: other};
  }

  function colourOf(node, groups) {
    if (node.kind === "network") return PALETTE[PALETTE.length - 1];
    if ((node.kind !== "member" && node.kind !== "group") || !node.colourKey) return GREY;
    return groups.colours[node.colourKey] || "#5c6b73";
  }

  function draw(data) {
    box.textContent = "";
    var most = 1, heaviest = 1;
    data.nodes.forEach(function (n) { most = Math.max(most, n.given_minutes + n.received_minutes); });
    data.links.forEach(function (l) { heaviest = Math.max(heaviest, l.minutes); });
    var you = box.dataset.you;
    var elements = data.nodes.map(function (n) {
      var d = Object.assign({}, n);
      // The stored map is the same for everyone; the page says which node is the viewer.
      d.you = n.id === you;
      d.size = 14 + 46 * Math.sqrt((n.given_minutes + n.received_minutes) / most);
      return {group: "nodes", data: d};
    }).concat(data.links.map(function (l, i) {
      return {group: "edges", data: {id: "link-" + i, source: l.source, target: l.target,
              minutes: l.minutes, kind: l.kind, width: 1 + 7 * Math.sqrt(l.minutes / heaviest)}};
    }));
    var big = data.nodes.length > 800;
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        // Every node carries its name (or "A member"), under it; names too small to read
        // when zoomed out are left off until the map is zoomed in.
        {selector: "node", style: {"width": "data(size)", "height": "data(size)",
          "background-color": "data(colour)", "border-width": 1, "border-color": "#212b32",
          "label": "data(label)", "font-size": 11, "color": "#212b32", "text-valign": "bottom",
          "text-margin-y": 3, "text-wrap": "ellipsis", "text-max-width": 120,
          "text-background-color": "#ffffff", "text-background-opacity": 0.8,
          "text-background-padding": 1, "min-zoomed-font-size": 8}},
        {selector: "node[?you]", style: {"border-width": 4, "border-color": "#ffeb3b"}},
        {selector: "node[kind = 'project']", style: {"shape": "round-rectangle"}},
        {selector: "node[kind = 'group']", style: {"shape": "hexagon"}},
        {selector: "edge[kind = 'volunteering']", style: {"line-style": "dashed"}},
        {selector: "edge", style: {"width": "data(width)", "line-color": "#8f9ca3",
          "opacity": 0.6, "curve-style": big ? "haystack" : "bezier"}},
        {selector: "node.hover", style: {"border-width": 4, "border-color": "#212b32"}}
      ],
      layout: big ? {name: "concentric", concentric: function (n) { return n.data("size"); },
                     levelWidth: function () { return 8; }, animate: false}
                  : {name: "cose", animate: false, randomize: true, nodeRepulsion: function () { return 8000; }}
    });

    function colour(key) {
      var groups = groupsBy(data.nodes, key);
      cy.nodes().forEach(function (node) {
        node.data("colourKey", node.data(key));
        node.data("colour", colourOf(node.data(), groups));
      });
      legend.textContent = "";
      var entries = Object.keys(groups.colours).map(function (name) { return [name, groups.colours[name]]; });
      if (groups.other) entries.push([groups.other, "#5c6b73"]);
      entries.push([_("Not given or not shown"), GREY]);
      if (data.nodes.some(function (n) { return n.kind === "network"; })) entries.push([_("Another network"), PALETTE[PALETTE.length - 1]]);
      entries.forEach(function (entry) {
        var li = document.createElement("li"), swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.backgroundColor = entry[1];
        li.appendChild(swatch);
        li.appendChild(document.createTextNode(entry[0]));
        legend.appendChild(li);
      });
    }

    function show(node) {
      var d = node.data(), at = node.renderedPosition();
      tooltip.textContent = "";
      var name = document.createElement("strong");
      name.textContent = d.you ? fmt(_("%s (you)"), [d.label]) : d.label;
      tooltip.appendChild(name);
      var detail = [d.profession, d.organisation].filter(Boolean).join(", ");
      if (detail) tooltip.appendChild(document.createTextNode(detail + ". "));
      var counts = [];
      if (d.exchanges) counts.push(fmt(ngettext("%s exchange", "%s exchanges", d.exchanges), [d.exchanges]));
      if (d.volunteering) counts.push(fmt(ngettext("%s time volunteering", "%s times volunteering", d.volunteering), [d.volunteering]));
      if (d.kind === "group") {
        tooltip.appendChild(document.createTextNode(" " + fmt(
          _("%(members)s members, %(exchanges)s exchanges. Select to see them."),
          {members: d.members, exchanges: d.exchanges}, true)));
        tooltip.style.left = Math.min(at.x + 12, box.clientWidth - 200) + "px";
        tooltip.style.top = (at.y + 12) + "px";
        tooltip.hidden = false;
        return;
      }
      tooltip.appendChild(document.createTextNode(d.kind === "project"
        ? fmt(ngettext("Volunteers gave %(hours)s (%(count)s confirmation).",
                       "Volunteers gave %(hours)s (%(count)s confirmations).", d.volunteering),
              {hours: hours(d.received_minutes), count: d.volunteering}, true)
        : fmt(_("Gave %(given)s, received %(received)s in %(what)s."),
              {given: hours(d.given_minutes), received: hours(d.received_minutes),
               what: counts.join(_(" and "))}, true)));
      tooltip.style.left = Math.min(at.x + 12, box.clientWidth - 200) + "px";
      tooltip.style.top = (at.y + 12) + "px";
      tooltip.hidden = false;
      node.addClass("hover");
    }
    function hide(node) { tooltip.hidden = true; if (node) node.removeClass("hover"); }

    cy.on("mouseover tap", "node", function (event) { show(event.target); });
    cy.on("mouseout", "node", function (event) { hide(event.target); });
    // A group opens as its own map (the same link as in the groups table).
    cy.on("dblclick dbltap", "node[kind = 'group']", function (event) {
      var params = new URLSearchParams(window.location.search);
      params.set("group", event.target.data("group"));
      window.location.search = params.toString();
    });
    cy.on("tap", function (event) { if (event.target === cy) hide(null); });
    cy.on("pan zoom", function () { hide(null); });
    toggle.hidden = false;
    toggle.addEventListener("change", function (event) { colour(event.target.value); });
    colour("profession");
    box.dataset.nodes = String(cy.nodes().length);
    window.hexitimeMap = cy;
  }

  fetch(box.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) { if (response.status !== 200) throw new Error(response.status); return response.json(); })
    .then(draw)
    .catch(function () {
      box.textContent = _("The map could not be drawn. The tables below show the same information.");
    });
})();
