// The shelf page: the switch's front panel drawn as SVG, port by port (odd ports on the top row,
// even ports below, as most switches number them), a table of Pis and the last journal lines.
// Every port is one <g class="port"> whose data-* attributes carry its state (data-pi, data-poe
// = none|unknown|off|on|delivering, data-probe = up|down|unprobed, data-held, data-cycled,
// data-trunk), so tests and scripts read the page as data. A live page re-fetches itself every
// refresh_seconds and swaps <main id="shelf"> in place; a static page (status --html) has no
// script at all.
#include <ctime>

#include "orchestrator/observe.hpp"

namespace picluster::orchestrator {
namespace {

constexpr int kColumnWidth = 68;
constexpr int kPortWidth = 62;
constexpr int kPortHeight = 70;
constexpr int kMargin = 10;

std::string utc(std::int64_t seconds, const char* format = "%Y-%m-%d %H:%M:%S UTC") {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

struct PortView {
  int port = 0;
  const PiStatus* pi = nullptr;
  bool trunk = false;
  std::string poe = "none";        // none unknown off on delivering
  std::string probe = "unprobed";  // up down unprobed
  bool held = false;
  bool cycled = false;  // power-cycled in the last hour
};

PortView view_of(const ShelfSnapshot& s, int port) {
  PortView v;
  v.port = port;
  v.trunk = port == s.trunk_port;
  for (const auto& st : s.status.pis) {
    if (st.port == port) v.pi = &st;
  }
  if (v.pi == nullptr) return v;
  const PiStatus& st = *v.pi;
  v.poe = !st.poe_on                  ? "unknown"
          : !*st.poe_on               ? "off"
          : st.poe_delivering == true ? "delivering"
                                      : "on";
  if (const auto it = s.probes.find(st.name); it != s.probes.end())
    v.probe = it->second.alive ? "up" : "down";
  v.held = st.hold.has_value();
  if (const auto it = s.cycles.pis.find(st.name); it != s.cycles.pis.end() && it->second.last) {
    v.cycled = s.generated - *it->second.last < 3600;
  }
  return v;
}

std::string fill_of(const PortView& v) {
  if (v.trunk) return "#5b6f8f";
  if (v.pi == nullptr) return "#3a3f47";
  if (v.held) return "#6b7a99";
  if (v.probe == "down") return "#c0392b";
  if (v.poe == "off") return "#7f8c8d";
  if (v.poe == "delivering" && v.probe != "down") return "#27ae60";
  return "#d68910";
}

std::string svg_text(int x, int y, const std::string& cls, const std::string& text) {
  return "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" class=\"" + cls +
         "\">" + html_escape(text) + "</text>";
}

std::string port_element(const PortView& v) {
  const int column = (v.port - 1) / 2;
  const int row = (v.port - 1) % 2;
  const int x = kMargin + column * kColumnWidth;
  const int y = kMargin + row * (kPortHeight + 8);
  const std::string name = v.trunk ? "trunk" : v.pi != nullptr ? v.pi->name : "";
  std::string title = "port " + std::to_string(v.port);
  if (v.trunk) title += ": fileserver trunk";
  if (v.pi != nullptr) {
    title += ": " + v.pi->name + ", PoE " + v.poe + ", probe " + v.probe;
    if (v.held) title += ", held off";
    if (v.cycled) title += ", power-cycled in the last hour";
  }
  std::string g = "<g class=\"port\" id=\"port-" + std::to_string(v.port) + "\" data-port=\"" +
                  std::to_string(v.port) + "\" data-pi=\"" + html_escape(v.pi ? v.pi->name : "") +
                  "\" data-poe=\"" + v.poe + "\" data-probe=\"" + v.probe + "\" data-held=\"" +
                  (v.held ? "true" : "false") + "\" data-cycled=\"" +
                  (v.cycled ? "true" : "false") + "\" data-trunk=\"" +
                  (v.trunk ? "true" : "false") + "\"><title>" + html_escape(title) + "</title>";
  g += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
       std::to_string(kPortWidth) + "\" height=\"" + std::to_string(kPortHeight) +
       "\" rx=\"6\" fill=\"" + fill_of(v) + "\"" +
       (v.trunk ? " stroke=\"#f4d03f\" stroke-width=\"3\"" : "") + "/>";
  g += svg_text(x + 5, y + 15, "num", std::to_string(v.port));
  g += svg_text(x + 5, y + 36, "name", name);
  if (v.pi != nullptr) {
    g += svg_text(x + 5, y + 52, "state",
                  v.held                  ? "held"
                  : v.poe == "delivering" ? "PoE"
                                          : "PoE " + v.poe);
    g += svg_text(x + 5, y + 65, "state", v.probe);
  }
  if (v.cycled) g += svg_text(x + kPortWidth - 16, y + 15, "cycled", "\u21bb");
  return g + "</g>";
}

std::string front_panel(const ShelfSnapshot& s) {
  const int ports = std::max(s.port_count, s.trunk_port);
  const int columns = (ports + 1) / 2;
  const int width = 2 * kMargin + columns * kColumnWidth;
  const int height = 2 * kMargin + 2 * kPortHeight + 8;
  std::string svg =
      "<svg id=\"panel\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 " +
      std::to_string(width) + " " + std::to_string(height) + "\" width=\"" + std::to_string(width) +
      "\" height=\"" + std::to_string(height) + "\"><title>front panel of the switch of shelf " +
      html_escape(s.status.shelf) + "</title>";
  svg += "<rect width=\"100%\" height=\"100%\" rx=\"8\" fill=\"#1f2329\"/>";
  for (int port = 1; port <= ports; ++port) svg += port_element(view_of(s, port));
  return svg + "</svg>";
}

std::string cell(const std::string& text, const std::string& cls = "") {
  return "<td" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + ">" +
         html_escape(text) + "</td>";
}

std::string pi_table(const ShelfSnapshot& s) {
  std::string t =
      "<table "
      "id=\"pis\"><thead><tr><th>Pi</th><th>port</th><th>PoE</th><th>power</th><th>probe</th>"
      "<th>held</th><th>cycles</th><th>last cycle</th><th>root built</th><th>last action</th></tr>"
      "</thead><tbody>";
  for (const auto& st : s.status.pis) {
    const PortView v = view_of(s, st.port);
    std::string probe = v.probe;
    if (const auto it = s.probes.find(st.name); it != s.probes.end()) {
      char took[32];
      std::snprintf(took, sizeof took, " (%.2f s)", it->second.seconds);
      probe += took;
      if (!it->second.alive) probe += ": " + it->second.detail;
    }
    const auto cycles = s.cycles.pis.find(st.name);
    const bool has_cycles = cycles != s.cycles.pis.end();
    std::string power = "-";
    if (st.power_mw) {
      char w[32];
      std::snprintf(w, sizeof w, "%.1f W", static_cast<double>(*st.power_mw) / 1000.0);
      power = w;
    }
    std::string last = "-";
    if (st.last_action) {
      last = st.last_action->time + " " + st.last_action->verb + "/" + st.last_action->step + " " +
             st.last_action->result;
    }
    t += "<tr data-pi=\"" + html_escape(st.name) + "\">" + cell(st.name) +
         cell(std::to_string(st.port)) + cell(st.poe, "poe-" + v.poe) + cell(power) +
         cell(probe, "probe-" + v.probe) + cell(st.hold ? describe(*st.hold) : "no") +
         cell(has_cycles ? std::to_string(cycles->second.total) : "0") +
         cell(has_cycles && cycles->second.last ? utc(*cycles->second.last) : "-") +
         cell(st.root_mtime ? utc(*st.root_mtime) : "-") + cell(last) + "</tr>";
  }
  return t + "</tbody></table>";
}

std::string journal_table(const ShelfSnapshot& s) {
  std::string t =
      "<table "
      "id=\"journal\"><thead><tr><th>time</th><th>user</th><th>verb</th><th>Pi</th><th>step</th>"
      "<th>result</th><th>detail</th></tr></thead><tbody>";
  for (auto it = s.journal_tail.rbegin(); it != s.journal_tail.rend(); ++it) {
    const std::string detail = it->detail.substr(0, it->detail.find('\n'));
    t += "<tr>" + cell(it->time) + cell(it->user) + cell(it->verb) +
         cell(it->pi.empty() ? "-" : it->pi) + cell(it->step) +
         cell(it->result, "result-" + it->result) + cell(detail) + "</tr>";
  }
  return t + "</tbody></table>";
}

std::string summary(const ShelfSnapshot& s) {
  std::string text = "updated " + utc(s.generated);
  if (s.round) text += " · watch round " + std::to_string(s.round->number);
  const bool guard = s.outage.value_or(s.cycles.guard_active);
  text += " · " + std::to_string(s.cycles.last_hour) + " cycle(s) in the last hour";
  std::string out = "<p id=\"summary\">" + html_escape(text) + "</p>";
  if (guard) {
    out +=
        "<p class=\"alert\" id=\"guard\">Outage guard active: too many Pis fail at once; watch "
        "cycles nobody.</p>";
  }
  for (const auto& p : s.status.problems) out += "<p class=\"problem\">" + html_escape(p) + "</p>";
  if (!s.journal_error.empty())
    out += "<p class=\"problem\">journal: " + html_escape(s.journal_error) + "</p>";
  return out;
}

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:1.5em;background:#f5f6f8;color:#1f2329}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
    "#panel text{font-family:monospace;fill:#fff}#panel .num{font-size:12px;opacity:.8}"
    "#panel .name{font-size:13px;font-weight:bold}#panel .state{font-size:10px}#panel "
    ".cycled{font-size:14px}"
    "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccd;padding:.25em "
    ".5em;text-align:left}"
    "th{background:#e4e7ec}.probe-down,.result-failed{color:#c0392b;font-weight:bold}.probe-up{"
    "color:#1e8449}"
    ".alert{background:#c0392b;color:#fff;padding:.5em}.problem{color:#a04000}"
    ".legend span{display:inline-block;margin-right:1em}.legend "
    "i{display:inline-block;width:.9em;height:.9em;"
    "margin-right:.3em;vertical-align:middle}";

std::string legend() {
  std::string out = "<p class=\"legend\">";
  for (const auto& [colour, text] : std::vector<std::pair<const char*, const char*>>{
           {"#27ae60", "PoE delivering, probe up"},
           {"#d68910", "PoE on, not delivering / not probed"},
           {"#c0392b", "probe down"},
           {"#7f8c8d", "PoE off"},
           {"#6b7a99", "held off"},
           {"#5b6f8f", "fileserver trunk"},
           {"#3a3f47", "no Pi"}}) {
    out += std::string("<span><i style=\"background:") + colour + "\"></i>" + text + "</span>";
  }
  return out + "<span>\u21bb cycled in the last hour</span></p>";
}

std::string refresh_script(int seconds) {
  return "<script>(function(){var ms=" + std::to_string(seconds * 1000) +
         ";function tick(){fetch(location.pathname,{cache:'no-store'}).then(function(r){return "
         "r.ok?r.text():null})"
         ".then(function(t){if(!t)return;var d=new DOMParser().parseFromString(t,'text/html');"
         "var "
         "n=d.getElementById('shelf'),o=document.getElementById('shelf');if(n&&o)o.replaceWith(n);}"
         ")"
         ".catch(function(){}).finally(function(){setTimeout(tick,ms)});}setTimeout(tick,ms);})();<"
         "/script>";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_page(const ShelfSnapshot& s) {
  const std::string title = "picluster: shelf " + s.status.shelf;
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
      std::string(kPagePolicy) + "\"><link rel=\"icon\" href=\"data:,\"><title>" +
      html_escape(title) + "</title><style>" + kStyle + "</style></head><body>";
  page += "<h1>" + html_escape(title) + "</h1><main id=\"shelf\">" + summary(s) + front_panel(s) +
          legend();
  page += "<h2>Pis</h2>" + pi_table(s) + "<h2>Journal (newest first)</h2>" + journal_table(s) +
          "</main>";
  if (s.refresh_seconds > 0) page += refresh_script(s.refresh_seconds);
  return page + "</body></html>\n";
}

}  // namespace picluster::orchestrator
