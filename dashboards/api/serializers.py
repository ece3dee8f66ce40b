"""Shapes of the dashboards API: input and output serializers (no logic)."""

from rest_framework import serializers

from dashboards.models import GRID_COLUMNS, ShareLevel
from dashboards.widgets import CATALOG


class WidgetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    title = serializers.CharField(allow_blank=True)
    x = serializers.IntegerField(help_text="Column of the left edge (0–11).")
    y = serializers.IntegerField(help_text="Row of the top edge.")
    w = serializers.IntegerField(help_text=f"Width in columns (of {GRID_COLUMNS}).")
    h = serializers.IntegerField(help_text="Height in rows.")
    personal = serializers.BooleanField(help_text="The viewer's own addition, seen by them only.")
    tile = serializers.BooleanField()
    many = serializers.BooleanField(  # type: ignore[assignment]  # a field, not .many
        help_text="Shows all chosen portfolios, not only the first."
    )
    depends = serializers.CharField()
    data_url = serializers.CharField()


class DashboardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    is_builtin = serializers.BooleanField()
    role = serializers.CharField(allow_blank=True)
    owner = serializers.CharField(allow_null=True)
    can_edit = serializers.BooleanField()
    can_share = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DashboardDetailOutput(DashboardOutput):
    widgets = WidgetOutput(many=True)


class WidgetInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(CATALOG))
    title = serializers.CharField(required=False, allow_blank=True, max_length=120)
    x = serializers.IntegerField(required=False, default=0, min_value=0)
    y = serializers.IntegerField(required=False, default=0, min_value=0)
    w = serializers.IntegerField(required=False, min_value=1, max_value=GRID_COLUMNS)
    h = serializers.IntegerField(required=False, min_value=1)
    options = serializers.DictField(required=False)


class DashboardInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)
    widgets = WidgetInput(many=True, required=False)


class DashboardUpdateInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)


class CloneInput(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class LayoutItem(serializers.Serializer):
    widget = serializers.IntegerField()
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    w = serializers.IntegerField(min_value=1, max_value=GRID_COLUMNS)
    h = serializers.IntegerField(min_value=1)


class LayoutInput(serializers.Serializer):
    items = LayoutItem(many=True)


class ShareInput(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="Username of the recipient.")
    team = serializers.CharField(required=False, help_text="Name of the recipient team.")
    level = serializers.ChoiceField(choices=ShareLevel.choices, default=ShareLevel.VIEW)


class ShareUpdateInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=ShareLevel.choices)


class ShareOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    level = serializers.CharField()
    created_at = serializers.DateTimeField()


class KindOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    many = serializers.BooleanField()  # type: ignore[assignment]  # a field, not .many
    tile = serializers.BooleanField()
    depends = serializers.CharField()


class VersionsOutput(serializers.Serializer):
    portfolios = serializers.DictField(
        child=serializers.CharField(),
        help_text="Per portfolio id: '<data_version>.<newest finished snapshot id>'.",
    )
    compliance = serializers.CharField()
    operations = serializers.CharField()
    version = serializers.CharField(help_text="Digest of all of the above; also the ETag.")


class WidgetDataOutput(serializers.Serializer):
    widget = serializers.IntegerField()
    kind = serializers.CharField()
    version = serializers.CharField(help_text="The data's ETag.")
    title = serializers.CharField()
    portfolios = serializers.ListField(child=serializers.IntegerField())
    as_of = serializers.DateField(allow_null=True)
    stale = serializers.BooleanField()
    figure = serializers.DictField(required=False, help_text="A Plotly figure: data and layout.")
    tiles = serializers.ListField(child=serializers.DictField(), required=False)
    table = serializers.DictField(required=False)
    items = serializers.ListField(child=serializers.DictField(), required=False)
    message = serializers.CharField(required=False, allow_null=True)
