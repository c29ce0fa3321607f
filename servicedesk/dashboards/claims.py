"""The warranty claims dashboard (issue 23): claims by status, credit expected against received, the denial rate
per supplier and the parts that fail most, over every claim (the figures of callbacks/recalls/claim_figures.py, in
four aggregate queries)."""

from functools import cached_property

from callbacks.recalls.claim_figures import claim_figures

from .tables import Column, Panels, Table


class ClaimDashboard(Panels):
    TABLES = ("claims_by_status", "claim_credit", "claim_suppliers", "failing_parts")

    @cached_property
    def figures(self):
        return claim_figures()

    def claims_by_status(self):
        rows = [{"status": label, "claims": n} for label, n in self.figures["by_status"]]
        return Table("claims_by_status", "Claims by status",
                     [Column("status", "Status", "text"), Column("claims", "Claims")], rows)

    def claim_credit(self):
        rows = [{"what": "Expected (claims not denied)", "amount": self.figures["expected"]},
                {"what": "Received", "amount": self.figures["received"]}]
        return Table("claim_credit", "Credit expected and received",
                     [Column("what", "Credit", "text"), Column("amount", "Amount", "money")], rows)

    def claim_suppliers(self):
        columns = [Column("supplier", "Supplier", "text"), Column("claims", "Claims"),
                   Column("answered", "Answered"), Column("denied", "Denied"), Column("rate", "Denial rate", "percent")]
        return Table("claim_suppliers", "Denial rate per supplier", columns, self.figures["suppliers"],
                     note="Of the claims the supplier answered (approved, credited or denied).")

    def failing_parts(self):
        return Table("failing_parts", "Parts that fail most",
                     [Column("part_name", "Part", "text"), Column("n", "Claims")], self.figures["parts"])
