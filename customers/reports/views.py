"""The flat jobs report's pages, managers only: upload, choose the sheet, map the columns, check, resolve, import;
each import has its own page (polled while a worker runs it) and stays in the list of past imports."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_POST

from servicedesk import roles

from . import records, runs
from .mapping import BY_KEY, FIELDS
from .models import ReportImport, ReportMapping
from .reading import read_table
from .values import ORDER_LABELS

MAX_REPORT_SIZE = 50 * 1024 * 1024
PAST_IMPORTS = 20
Status = ReportImport.Status


class ReportUploadForm(forms.Form):
    file = forms.FileField(
        label="Jobs report", help_text="CSV or Excel (.xlsx), as your dispatch system or spreadsheet saved it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_REPORT_SIZE:
            raise forms.ValidationError(f"The file is {filesizeformat(upload.size)}; at most "
                                        f"{filesizeformat(MAX_REPORT_SIZE)} can be uploaded here.")
        return upload


def _report(pk):
    return get_object_or_404(ReportImport.objects.select_related("by", "mapping"), pk=pk)


@roles.role_required(roles.MANAGER)
def report_upload(request):
    form = ReportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = records.report_upload(name=upload.name, content=upload, by=request.user)
        return redirect(report)
    return render(request, "customers/reports/upload.html", {
        "form": form, "imports": ReportImport.objects.recent()[:PAST_IMPORTS],
        "mappings": ReportMapping.objects.all(),
    })


@roles.role_required(roles.MANAGER)
def report_detail(request, pk):
    report = runs.progress(_report(pk))
    context = {"report": report, "errors": [{"row": row, "column": column, "message": message}
                                            for row, column, message in report.errors]}
    if report.status == Status.MAPPING and report.sheets and not report.sheet and not report.fields:
        context["sheets"] = report.sheets
    elif report.status == Status.MAPPING:
        context.update(_mapping_context(report))
    return render(request, "customers/reports/detail.html", context)


def _mapping_context(report, chosen=None):
    table = read_table(runs.stored_path(report), sheet=report.sheet)
    firsts = table.first_values()
    chosen = chosen if chosen is not None else report.fields
    return {
        "columns": [{"index": index, "header": header, "values": firsts[index], "field": chosen.get(header, ""),
                     "ambiguous": header in report.ambiguous_dates,
                     "order": report.date_orders.get(header, "")}
                    for index, header in enumerate(table.headers)],
        "fields": FIELDS,
        "orders": ORDER_LABELS.items(),
        "layout": table.layout,
        "mapping_name": report.mapping.name if report.mapping else "",
    }


@roles.role_required(roles.MANAGER)
def report_progress(request, pk):
    """The progress bar, polled by htmx while the import runs; once it is done the page reloads to show how."""
    report = runs.progress(_report(pk))
    response = render(request, "customers/reports/_progress.html", {"report": report})
    if not report.is_running:
        response["HX-Refresh"] = "true"
    return response


@roles.role_required(roles.MANAGER)
@require_POST
def report_sheet(request, pk):
    report = _report(pk)
    sheet = request.POST.get("sheet", "")
    if report.status == Status.MAPPING and sheet in report.sheets:
        records.report_choose_sheet(report=report, sheet=sheet)
    return redirect(report)


@roles.role_required(roles.MANAGER)
@require_POST
def report_map(request, pk):
    report = _report(pk)
    if report.status != Status.MAPPING:
        return redirect(report)
    headers = read_table(runs.stored_path(report), sheet=report.sheet).headers
    fields, orders = {}, {}
    for index, header in enumerate(headers):
        key = request.POST.get(f"field-{index}", "")
        fields[header] = key if key in BY_KEY else ""
        order = request.POST.get(f"order-{index}", "")
        if order in ORDER_LABELS:
            orders[header] = order
    save_as = request.POST.get("save_as", "").strip()[:100]
    problems = records.report_map(report=report, fields=fields, date_orders=orders, save_as=save_as, by=request.user)
    if problems:
        context = {"report": report, "problems": problems, "save_as": save_as, **_mapping_context(report, fields)}
        return render(request, "customers/reports/detail.html", context, status=400)
    if save_as:
        messages.success(request, f"The mapping is saved as {save_as!r}: the next file with these columns is "
                                  "mapped the same way.")
    return redirect(report)


@roles.role_required(roles.MANAGER)
@require_POST
def report_resolve(request, pk):
    report = _report(pk)
    if report.status == Status.CHECKED and report.ambiguities:
        resolutions = {}
        for number, ambiguity in enumerate(report.ambiguities):
            choice = request.POST.get(f"resolve-{number}", "")
            allowed = {"new", *(str(candidate["pk"]) for candidate in ambiguity["candidates"])}
            if choice in allowed:
                resolutions[ambiguity["key"]] = choice
        records.report_resolve(report=report, resolutions=resolutions)
    return redirect(report)


@roles.role_required(roles.MANAGER)
@require_POST
def report_import(request, pk):
    report = _report(pk)
    report = records.report_import_start(report=report, by=request.user)
    if report.status == Status.IMPORTED:
        messages.success(request, f"Imported {report.file_name}.")
    return redirect(report)
