from rest_framework.response import Response
from rest_framework.views import APIView


class ApiRoot(APIView):
    """The API's index: where each kind of record is."""

    def get(self, request, format=None):
        integration = getattr(request.auth, "integration", None)
        return Response({"integration": integration.name if integration else None})
