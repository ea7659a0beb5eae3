"""REST API v1: thin views over the apps' services and selectors, scoped by the token's shop."""

from __future__ import annotations

import hashlib
import json
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import exceptions, generics, renderers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from autoservice.access import AccessAction, personal_data_access_record
from autoservice.http import problem_json
from autoservice.models import Shop
from autoservice.params import ParamError, datetime_param
from intake.selectors import records_for_api, records_updated_since
from leads import selectors as lead_selectors
from leads import services as lead_services
from leads.models import Channel, Status
from optima.models import OrderStatus
from optima.selectors import offers_for_shop, orders_changed_since, orders_for_api
from smartcalc.selectors import estimate_version_for_shop, estimates_for_shop
from smartcalc.services import EXPORT_XLSX_CONTENT_TYPE as XLSX_CONTENT_TYPE
from smartcalc.services import estimate_export, estimate_export_xlsx

from . import serializers
from .models import IdempotencyKey
from .problems import KINDS, Problem

IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c3c52-8f0e-4f7e-9d55-0a4c2a8b7e10")


class Cursor(CursorPagination):
    """Newest first; `cursor` comes from `next`/`previous`, `limit` is at most 200."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            detail = _("Параметр cursor испорчен: берите его целиком из ссылок next и previous.")
            raise Problem("validation", detail, errors={"cursor": [detail]}) from None


def _shop(request: Request) -> Shop:
    return request.user.shop


def _access(request: Request, action: str, object_type: str, ids: list, number=None) -> None:
    """The access log of personal data (autoservice.access): the CRM read these objects,
    named by the token. One INSERT per answer."""
    django_request = request._request
    django_request.api_token = request.auth
    django_request.shop = _shop(request)
    personal_data_access_record(
        request=django_request,
        action=action,
        object_type=object_type,
        object_id=",".join(str(i) for i in ids)[:40],
        lead_number=number,
    )


def _since(request: Request):
    try:
        return datetime_param(
            request.query_params.get("updated_since"),
            name="updated_since",
            tz=_shop(request).tzinfo,
        )
    except ParamError as exc:
        raise Problem("validation", exc.message, errors={"updated_since": [exc.message]}) from None


def _choice(request: Request, name: str, choices) -> str:
    value = request.query_params.get(name, "")
    if value and value not in choices.values:
        detail = _("Параметр %(name)s может быть одним из: %(values)s.") % {
            "name": name,
            "values": ", ".join(choices.values),
        }
        raise Problem("validation", detail, errors={name: [detail]})
    return value


UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description=_(
        "ISO 8601: только изменённые с этого момента (включительно). Без часового пояса — "
        "время автосервиса."
    ),
)


# --- leads ------------------------------------------------------------------------------


@extend_schema(tags=["leads"])
class LeadList(generics.ListCreateAPIView):
    scope_resource = "leads"
    pagination_class = Cursor
    serializer_class = serializers.LeadSerializer

    def get_queryset(self):
        queryset = lead_selectors.leads_for_api(_shop(self.request))
        if status_ := _choice(self.request, "status", Status):
            queryset = queryset.filter(status=status_)
        if channel := _choice(self.request, "channel", Channel):
            queryset = queryset.filter(channel=channel)
        if (since := _since(self.request)) is not None:
            queryset = lead_selectors.leads_updated_since(queryset, since)
        return queryset

    @extend_schema(
        summary=_("Заявки автосервиса"),
        parameters=[
            OpenApiParameter("status", enum=Status.values, description=_("статус заявки")),
            OpenApiParameter("channel", enum=Channel.values, description=_("канал")),
            UPDATED_SINCE,
        ],
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ids = [lead["id"] for lead in response.data["results"]]
        _access(request, AccessAction.API_LEADS, "inbox", ids)
        return response

    @extend_schema(
        summary=_("Новая заявка из другого канала (звонок, визит, мессенджер)"),
        request=serializers.LeadCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description=_(
                    "Уникальный ключ запроса (например, UUID). Тот же ключ — та же заявка "
                    "(ответ 200), тот же ключ с другим телом — 409."
                ),
                pattern=r"^[\x21-\x7e]{1,200}$",
            )
        ],
        responses={
            201: serializers.LeadDetailSerializer,
            200: OpenApiResponse(
                serializers.LeadDetailSerializer, description=_("заявка с этим ключом уже есть")
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200 or not key.isascii() or not key.isprintable():
            detail = _(
                "Нужен заголовок Idempotency-Key: до 200 печатных символов ASCII, например UUID."
            )
            raise Problem("validation", detail, errors={"Idempotency-Key": [detail]})
        body = serializers.LeadCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        digest = hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
        ).hexdigest()
        shop = _shop(request)
        token = request.auth
        channel = data.pop("channel")
        with transaction.atomic():
            lead, created = lead_services.lead_create(
                shop=shop,
                channel=channel,
                data=lead_services.LeadInput(**data),
                submission_key=uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{shop.pk}:{key}"),
                via_token=token,
            )
            if created:
                IdempotencyKey.objects.create(
                    shop=shop, key=key, body_sha256=digest, lead=lead, token=token
                )
            else:
                stored = IdempotencyKey.objects.filter(shop=shop, key=key).first()
                if stored is None or stored.body_sha256 != digest:
                    raise Problem(
                        "conflict",
                        _(
                            "Ключ Idempotency-Key уже использован для другой заявки (№%(n)s) "
                            "с другими данными: пришлите новый ключ для новой заявки."
                        )
                        % {"n": lead.number},
                    )
        lead = lead_selectors.lead_for_api(shop, lead.pk)
        return Response(
            serializers.LeadDetailSerializer(_with_photo_count(lead)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _with_photo_count(lead):
    lead.photo_count = len(lead.photos.all())
    return lead


def _lead_or_404(request: Request, lead_id: int):
    lead = lead_selectors.lead_for_api(_shop(request), lead_id)
    if lead is None:
        raise Problem(
            "not-found", _("Заявки с id %(id)s нет в вашем автосервисе.") % {"id": lead_id}
        )
    return _with_photo_count(lead)


@extend_schema(tags=["leads"])
class LeadDetail(generics.GenericAPIView):
    scope_resource = "leads"
    serializer_class = serializers.LeadDetailSerializer

    @extend_schema(summary=_("Заявка: фото (ссылки на час), согласие, история"))
    def get(self, request, lead_id: int):
        lead = _lead_or_404(request, lead_id)
        _access(request, AccessAction.API_LEADS, "lead", [lead.pk], lead.number)
        return Response(self.get_serializer(lead).data)


@extend_schema(tags=["leads"])
class LeadStatus(generics.GenericAPIView):
    scope_resource = "leads"
    serializer_class = serializers.LeadStatusSerializer

    @extend_schema(
        summary=_("Сменить статус заявки (по тем же правилам, что и в кабинете)"),
        request=serializers.LeadStatusSerializer,
        responses={200: serializers.LeadDetailSerializer},
    )
    def post(self, request, lead_id: int):
        lead = _lead_or_404(request, lead_id)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = body.validated_data["status"]
        if new != lead.status and new not in lead.allowed_statuses():
            raise Problem(
                "conflict",
                _("Из статуса «%(old)s» нельзя перейти в «%(new)s».")
                % {"old": Status(lead.status).label, "new": Status(new).label},
            )
        try:
            lead_services.lead_change_status(
                lead=lead,
                status=new,
                by=None,
                reason=body.validated_data["reason"],
                via_token=request.auth,
            )
        except DjangoValidationError as exc:
            raise Problem(
                "validation", " ".join(exc.messages), errors={"reason": exc.messages}
            ) from None
        return Response(serializers.LeadDetailSerializer(_lead_or_404(request, lead_id)).data)


@extend_schema(tags=["leads"])
class LeadAssignee(generics.GenericAPIView):
    scope_resource = "leads"
    serializer_class = serializers.LeadAssignSerializer

    @extend_schema(
        summary=_("Назначить ответственного (или снять: null)"),
        request=serializers.LeadAssignSerializer,
        responses={200: serializers.LeadDetailSerializer},
    )
    def post(self, request, lead_id: int):
        lead = _lead_or_404(request, lead_id)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignee = None
        if (member_id := body.validated_data["assignee"]) is not None:
            assignee = lead_selectors.lead_staff(_shop(request)).filter(pk=member_id).first()
            if assignee is None:
                detail = _("Сотрудника с id %(id)s нет в вашем автосервисе.") % {"id": member_id}
                raise Problem("validation", detail, errors={"assignee": [detail]})
        lead_services.lead_assign(lead=lead, assignee=assignee, by=None, via_token=request.auth)
        return Response(serializers.LeadDetailSerializer(_lead_or_404(request, lead_id)).data)


# --- estimates, offers, intake records (read only) ---------------------------------------


@extend_schema(tags=["estimates"])
class EstimateList(generics.ListAPIView):
    scope_resource = "estimates"
    pagination_class = Cursor
    serializer_class = serializers.EstimateSerializer

    def get_queryset(self):
        return estimates_for_shop(_shop(self.request))

    @extend_schema(summary=_("Расчёты с версиями и строками"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["estimates"])
class EstimateDetail(generics.RetrieveAPIView):
    scope_resource = "estimates"
    serializer_class = serializers.EstimateSerializer
    lookup_url_kwarg = "estimate_id"

    def get_queryset(self):
        return estimates_for_shop(_shop(self.request))

    @extend_schema(summary=_("Расчёт с версиями и строками"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class XlsxRenderer(renderers.BaseRenderer):
    """`?format=xlsx` or `Accept: <the XLSX type>`: the view hands over the workbook's bytes;
    a refusal (a problem document) is still written as JSON."""

    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data, None, renderer_context)


@extend_schema(tags=["estimates"])
class EstimateExport(generics.GenericAPIView):
    scope_resource = "estimates"
    renderer_classes = [renderers.JSONRenderer, XlsxRenderer]
    serializer_class = serializers.EstimateExportSerializer

    @extend_schema(
        summary=_("Выгрузка версии расчёта для программ расчёта и страховых (JSON или XLSX)"),
        description=_(
            "Строки — операции (замена, ремонт, снятие/установка, окраска, переход, ЛКМ, "
            "запчасть с номером OEM) с нормо-часами, ставками и суммами без НДС, НДС и с НДС; "
            "формат описан в smartcalc/EXPORT.md. XLSX — с ?format=xlsx или заголовком Accept."
        ),
        parameters=[
            OpenApiParameter(
                "format",
                enum=["json", "xlsx"],
                description=_("json (по умолчанию) или xlsx"),
            )
        ],
        responses={
            (200, "application/json"): serializers.EstimateExportSerializer,
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, estimate_id: int, number: int):
        version = estimate_version_for_shop(_shop(request), estimate_id, number)
        if version is None:
            raise Problem(
                "not-found",
                _("Версии %(n)s расчёта с id %(id)s нет в вашем автосервисе.")
                % {"n": number, "id": estimate_id},
            )
        name = f"smeta-{estimate_id}-v{number}"
        if request.accepted_renderer.format == "xlsx":
            return Response(
                estimate_export_xlsx(version),
                content_type=XLSX_CONTENT_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )
        return Response(estimate_export(version))


@extend_schema(tags=["offers"])
class OfferList(generics.ListAPIView):
    scope_resource = "offers"
    pagination_class = Cursor
    serializer_class = serializers.OfferSerializer

    def get_queryset(self):
        return offers_for_shop(_shop(self.request))

    @extend_schema(summary=_("Предложения клиентам: варианты и согласия"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["offers"])
class OfferDetail(generics.RetrieveAPIView):
    scope_resource = "offers"
    serializer_class = serializers.OfferSerializer
    lookup_url_kwarg = "offer_id"

    def get_queryset(self):
        return offers_for_shop(_shop(self.request))

    @extend_schema(summary=_("Предложение клиенту: варианты и согласие"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _positive_int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**31:
        detail = _("Параметр %(name)s — целое число больше нуля (id).") % {"name": name}
        raise Problem("validation", detail, errors={name: [detail]})
    return int(value)


@extend_schema(tags=["orders"])
class OrderList(generics.ListAPIView):
    scope_resource = "orders"
    pagination_class = Cursor
    serializer_class = serializers.OrderSerializer

    def get_queryset(self):
        queryset = orders_for_api(_shop(self.request))
        if status_ := _choice(self.request, "status", OrderStatus):
            queryset = queryset.filter(status=status_)
        if (lead_id := _positive_int(self.request, "lead")) is not None:
            queryset = queryset.filter(version__offer__lead_id=lead_id)
        if (since := _since(self.request)) is not None:
            queryset = orders_changed_since(queryset, since)
        return queryset

    @extend_schema(
        summary=_("Заказы поставщикам: строки и история статусов"),
        parameters=[
            OpenApiParameter("status", enum=OrderStatus.values, description=_("статус заказа")),
            OpenApiParameter(
                "lead",
                {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                description=_("id заявки"),
            ),
            UPDATED_SINCE,
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["orders"])
class OrderDetail(generics.RetrieveAPIView):
    scope_resource = "orders"
    serializer_class = serializers.OrderSerializer
    lookup_url_kwarg = "order_id"

    def get_queryset(self):
        return orders_for_api(_shop(self.request))

    @extend_schema(summary=_("Заказ поставщику: строки и история статусов"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["intake"])
class IntakeRecordList(generics.ListAPIView):
    scope_resource = "intake"
    pagination_class = Cursor
    serializer_class = serializers.IntakeRecordSerializer

    def get_queryset(self):
        queryset = records_for_api(_shop(self.request))
        sealed = self.request.query_params.get("sealed", "")
        if sealed not in ("", "true", "false"):
            detail = _("Параметр sealed может быть true или false.")
            raise Problem("validation", detail, errors={"sealed": [detail]})
        if sealed:
            queryset = queryset.filter(sealed_at__isnull=sealed == "false")
        if (since := _since(self.request)) is not None:
            queryset = records_updated_since(queryset, since)
        return queryset

    @extend_schema(
        summary=_("Акты приёмки и выдачи (поля — как в intake/API.md)"),
        parameters=[
            OpenApiParameter(
                "sealed",
                enum=["true", "false"],
                description=_("true — только подписанные и опечатанные, false — остальные"),
            ),
            UPDATED_SINCE,
        ],
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        ids = [record["id"] for record in response.data["results"]]
        _access(request, AccessAction.API_INTAKE, "intake_list", ids)
        return response


@extend_schema(tags=["intake"])
class IntakeRecordDetail(generics.RetrieveAPIView):
    scope_resource = "intake"
    serializer_class = serializers.IntakeRecordSerializer
    lookup_url_kwarg = "record_id"

    def get_queryset(self):
        return records_for_api(_shop(self.request))

    @extend_schema(summary=_("Акт приёмки или выдачи"))
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        _access(request, AccessAction.API_INTAKE, "intake_record", [response.data["id"]])
        return response


@csrf_exempt  # an API client sends no CSRF token; this view changes nothing
def not_found(request: HttpRequest) -> HttpResponse:
    return problem_json(
        _("По адресу %(path)s в API ничего нет: сверьтесь с документацией /api/v1/docs/.")
        % {"path": request.path[:200]},
        404,
        slug="not-found",
        title=KINDS["not-found"].title,
    )


def problem_page(request: HttpRequest, slug: str) -> HttpResponse:
    """What a problem `type` URI opens: the kind of problem explained for the integrator."""
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404
    return render(request, "api/problem.html", {"kind": kind, "kinds": KINDS.values()})


class RedocView(SpectacularRedocView):
    """Redoc from the installed package, without Google's web fonts (api/redoc.html) and
    without the vendor logo it would fetch from its CDN: images may come only from here."""

    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = "img-src 'self' data:"
        return response
