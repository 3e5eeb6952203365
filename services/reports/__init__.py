"""Reports: the campaign's báo cáo kết quả kiểm tra (DOMAIN.md 2.8) and the periodic report to UBND tỉnh and the
Ministry with the province's three OSH targets (2.11, section 6).

- :mod:`services.reports.statistics`: the annual statistics the agencies report (recorded once, changes audited);
- :mod:`services.reports.kpi`: the targets, year over year (pure);
- :mod:`services.reports.campaign_report`: one campaign's report, issued with a number (PDF), its figures from
  :mod:`services.reports.campaign_figures`, its sentences from :mod:`services.reports.report_wording`;
- :mod:`services.reports.periodic_report`: half-year and annual report (PDF, and XLSX by
  :mod:`services.reports.periodic_xlsx`).

The charts are the renderer's ``chart`` body kind (services/documents/render.py, drawn by
services/documents/charts.py with the document font: their labels stay extractable text).
"""
