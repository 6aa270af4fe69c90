#include "fuzz/campaign/campaign_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace bpfdiff::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

std::string fmt(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// 1234567 -> "1.23M", for axis ticks and tables.
std::string human(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt(v / 1e9, 2) + "G";
  if (a >= 1e6) return fmt(v / 1e6, 2) + "M";
  if (a >= 1e4) return fmt(v / 1e3, 1) + "k";
  return fmt(v, a < 10 && a != std::floor(a) ? 1 : 0);
}

// A "nice" tick step giving about `ticks` intervals over [0, max].
double nice_step(double max, int ticks) {
  if (max <= 0) return 1;
  const double raw = max / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

double exec_per_sec(const TargetTotals& t) {
  return t.seconds > 0 ? static_cast<double>(t.execs) / t.seconds : 0;
}

// Per target, the samples of `value` over time.
std::vector<ChartSeries> series_of(const CampaignState& s, uint64_t Sample::*value) {
  std::map<std::string, ChartSeries> by_target;
  for (const Sample& x : s.samples) {
    ChartSeries& c = by_target[x.target];
    c.name = x.target;
    c.points.emplace_back(x.t, static_cast<double>(x.*value));
  }
  std::vector<ChartSeries> out;
  for (auto& [name, c] : by_target)
    out.push_back(std::move(c));
  return out;
}

double fuzz_seconds(const CampaignState& s) {
  double t = s.fuzz_seconds_before;
  if (!s.sessions.empty() && !s.sessions.back().complete) t += s.sessions.back().elapsed_seconds;
  return t;
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
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

Json campaign_report_json(const CampaignReport& r) {
  const CampaignState& s = *r.state;
  Json j;
  j["engine"] = s.engine;
  j["fuzz_seconds"] = fuzz_seconds(s);
  j["sessions"] = s.sessions.size();
  uint64_t execs = 0;
  double seconds = 0;
  j["targets"] = Json::object();
  for (const auto& [name, t] : s.targets) {
    execs += t.execs;
    seconds += t.seconds;
    j["targets"][name] = {
        {"execs", t.execs},       {"seconds", t.seconds},   {"exec_per_sec", exec_per_sec(t)},
        {"coverage", t.coverage}, {"features", t.features}, {"corpus", t.corpus},
        {"crashes", t.crashes}};
  }
  j["totals"] = {{"execs", execs},
                 {"job_seconds", seconds},
                 {"exec_per_sec", seconds > 0 ? static_cast<double>(execs) / seconds : 0},
                 {"findings", s.findings.size()},
                 {"crashes", s.crashes.size()}};
  j["findings"] = Json::array();
  for (const FindingRecord& f : s.findings)
    j["findings"].push_back(to_json(f));
  j["samples"] = to_json(s.samples);
  j["coverage"] = r.coverage ? to_json(*r.coverage) : Json(nullptr);
  j["coverage_note"] = r.coverage_note;
  return j;
}

std::string svg_line_chart(const std::string& title, const std::vector<ChartSeries>& series,
                           const std::string& x_label, const std::string& y_label) {
  constexpr double kW = 640, kH = 300, kLeft = 64, kRight = 170, kTop = 28, kBottom = 40;
  const double pw = kW - kLeft - kRight;
  const double ph = kH - kTop - kBottom;
  double max_x = 0, max_y = 0;
  for (const ChartSeries& s : series) {
    for (const auto& [x, y] : s.points) {
      max_x = std::max(max_x, x);
      max_y = std::max(max_y, y);
    }
  }
  const double x_step = nice_step(max_x, 6);
  const double y_step = nice_step(max_y, 5);
  const double x_top = std::max(x_step, std::ceil(max_x / x_step) * x_step);
  const double y_top = std::max(y_step, std::ceil(max_y / y_step) * y_step);
  const auto px = [&](double x) { return kLeft + pw * x / x_top; };
  const auto py = [&](double y) { return kTop + ph - ph * y / y_top; };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(kW) + "\" height=\"" +
                    fmt(kH) + "\" viewBox=\"0 0 " + fmt(kW) + " " + fmt(kH) +
                    "\" role=\"img\" aria-label=\"" + html_escape(title) + "\">\n";
  svg += "<text x=\"" + fmt(kLeft) + "\" y=\"18\" class=\"t\">" + html_escape(title) + "</text>\n";
  for (double y = 0; y <= y_top + y_step / 2; y += y_step) {
    svg += "<line x1=\"" + fmt(kLeft) + "\" x2=\"" + fmt(kLeft + pw) + "\" y1=\"" + fmt(py(y), 1) +
           "\" y2=\"" + fmt(py(y), 1) + "\" class=\"g\"/><text x=\"" + fmt(kLeft - 6) + "\" y=\"" +
           fmt(py(y) + 4, 1) + "\" text-anchor=\"end\">" + human(y) + "</text>\n";
  }
  for (double x = 0; x <= x_top + x_step / 2; x += x_step) {
    svg += "<text x=\"" + fmt(px(x), 1) + "\" y=\"" + fmt(kTop + ph + 16) + "\" text-anchor=\"middle\">" +
           human(x) + "</text>\n";
  }
  svg += "<line x1=\"" + fmt(kLeft) + "\" x2=\"" + fmt(kLeft) + "\" y1=\"" + fmt(kTop) + "\" y2=\"" +
         fmt(kTop + ph) + "\" class=\"a\"/><line x1=\"" + fmt(kLeft) + "\" x2=\"" + fmt(kLeft + pw) +
         "\" y1=\"" + fmt(kTop + ph) + "\" y2=\"" + fmt(kTop + ph) + "\" class=\"a\"/>\n";
  svg += "<text x=\"" + fmt(kLeft + pw / 2) + "\" y=\"" + fmt(kH - 6) + "\" text-anchor=\"middle\">" +
         html_escape(x_label) + "</text>\n";
  svg += "<text transform=\"translate(14," + fmt(kTop + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(y_label) + "</text>\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* colour = kColours[i % (sizeof kColours / sizeof kColours[0])];
    std::string points;
    for (const auto& [x, y] : series[i].points)
      points += fmt(px(x), 1) + "," + fmt(py(y), 1) + " ";
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\" points=\"" +
           points + "\"/>\n";
    const double ly = kTop + 10 + 18 * static_cast<double>(i);
    svg += "<rect x=\"" + fmt(kLeft + pw + 12) + "\" y=\"" + fmt(ly - 8) +
           "\" width=\"10\" height=\"10\" fill=\"" + colour + "\"/><text x=\"" + fmt(kLeft + pw + 26) +
           "\" y=\"" + fmt(ly + 1) + "\">" + html_escape(series[i].name) + "</text>\n";
  }
  if (series.empty()) {
    svg += "<text x=\"" + fmt(kLeft + pw / 2) + "\" y=\"" + fmt(kTop + ph / 2) +
           "\" text-anchor=\"middle\">no samples yet</text>\n";
  }
  return svg + "</svg>\n";
}

std::string campaign_report_html(const CampaignReport& r) {
  const CampaignState& s = *r.state;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bpfdiff fuzzing "
      "campaign</title>\n"
      "<style>body{font:14px "
      "sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
      "code{font-size:12px}svg text{font:11px sans-serif}svg .t{font:bold 13px sans-serif}"
      "svg .g{stroke:#eee}svg .a{stroke:#333}.bad{color:#b00}</style></head><body>\n";
  h += "<h1>bpfdiff fuzzing campaign</h1>\n";
  uint64_t execs = 0;
  double seconds = 0;
  for (const auto& [name, t] : s.targets) {
    execs += t.execs;
    seconds += t.seconds;
  }
  h += "<p>Engine " + html_escape(s.engine) + ", " + std::to_string(s.sessions.size()) + " session(s), " +
       fmt(fuzz_seconds(s)) + " s of fuzzing, " + fmt(seconds) + " job-seconds, " +
       human(static_cast<double>(execs)) + " executions (" +
       human(seconds > 0 ? static_cast<double>(execs) / seconds : 0) + " per second per job), " +
       std::to_string(s.crashes.size()) + " crash file(s), <b" +
       (s.findings.empty() ? "" : " class=\"bad\"") + ">" + std::to_string(s.findings.size()) +
       " distinct finding(s)</b>.</p>\n";

  h += "<h2>Targets</h2>\n<table><tr><th class=\"l\">target</th><th>executions</th><th>job-seconds</th>"
       "<th>exec/s</th><th>coverage (edges)</th><th>features</th><th>corpus</th><th>crashes</th></tr>\n";
  for (const auto& [name, t] : s.targets) {
    h += "<tr><td class=\"l\">" + html_escape(name) + "</td><td>" + std::to_string(t.execs) + "</td><td>" +
         fmt(t.seconds, 1) + "</td><td>" + fmt(exec_per_sec(t)) + "</td><td>" + std::to_string(t.coverage) +
         "</td><td>" + std::to_string(t.features) + "</td><td>" + std::to_string(t.corpus) + "</td><td>" +
         std::to_string(t.crashes) + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Over time</h2>\n";
  h += svg_line_chart("Executions (cumulative)", series_of(s, &Sample::execs), "campaign time (s)",
                      "executions");
  h += svg_line_chart("Coverage", series_of(s, &Sample::coverage), "campaign time (s)", "edges");
  h += svg_line_chart("Corpus size", series_of(s, &Sample::corpus), "campaign time (s)", "inputs");

  h += "<h2>Findings</h2>\n";
  if (s.findings.empty()) {
    h += "<p>None.</p>\n";
  } else {
    h += "<table><tr><th class=\"l\">signature</th><th class=\"l\">kind</th><th class=\"l\">target</th>"
         "<th>crashes</th><th>slots</th><th class=\"l\">minimized</th><th class=\"l\">reproduce</th></tr>\n";
    for (const FindingRecord& f : s.findings) {
      const std::string slots = f.original_slots == 0 ? std::string("")
                                                      : std::to_string(f.original_slots) + " &rarr; " +
                                                            std::to_string(f.minimized_slots);
      h += "<tr><td class=\"l\">" + html_escape(f.title) + "</td><td class=\"l\">" + html_escape(f.kind) +
           "</td><td class=\"l\">" + html_escape(f.target) + "</td><td>" + std::to_string(f.count) +
           "</td><td>" + slots + "</td><td class=\"l\"><code>" + html_escape(f.minimized) +
           "</code></td><td class=\"l\"><code>" + html_escape(f.repro_command) + "</code></td></tr>\n";
    }
    h += "</table>\n";
  }

  h += "<h2>Source coverage</h2>\n";
  if (!r.coverage) {
    h += "<p>" + html_escape(r.coverage_note.empty() ? "Not measured." : r.coverage_note) + "</p>\n";
  } else {
    const CoverageSummary& c = *r.coverage;
    h += "<p>The merged corpus replayed by the coverage build: lines " + fmt(c.lines.percent(), 1) + "% (" +
         std::to_string(c.lines.covered) + " of " + std::to_string(c.lines.count) + "), functions " +
         fmt(c.functions.percent(), 1) + "%, regions " + fmt(c.regions.percent(), 1) +
         "% (llvm-cov-14; full report in coverage/report.txt).</p>\n";
    h += "<table><tr><th class=\"l\">file</th><th>lines</th><th>line %</th><th>functions %</th>"
         "<th>regions %</th></tr>\n";
    for (const FileCoverage& f : c.files) {
      h += "<tr><td class=\"l\">" + html_escape(f.file) + "</td><td>" + std::to_string(f.lines.covered) +
           "/" + std::to_string(f.lines.count) + "</td><td>" + fmt(f.lines.percent(), 1) + "</td><td>" +
           fmt(f.functions.percent(), 1) + "</td><td>" + fmt(f.regions.percent(), 1) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  return h + "</body></html>\n";
}

}  // namespace bpfdiff::cli
