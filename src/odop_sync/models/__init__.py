"""All ORM models; import from here so Alembic and the mappers see every table."""

from odop_sync.models.agency import Agency, Producer, ProducerKind
from odop_sync.models.audit import AuditRecord
from odop_sync.models.auth import ApiKey, ApiKeyGrant, Role
from odop_sync.models.base import Base
from odop_sync.models.batch import Batch, BatchRow, BatchStatus, RowStatus
from odop_sync.models.catalog import Product, StockMovement, StockReason, Variant
from odop_sync.models.fx import FxRate
from odop_sync.models.job import Job, JobStatus
from odop_sync.models.orders import (
    Order,
    OrderCursor,
    OrderLine,
    OrderStatusChange,
    SalesGrain,
    SalesRollup,
)
from odop_sync.models.sync import (
    AccountLease,
    Listing,
    ListingIssue,
    ListingStatus,
    MarketplaceAccount,
    Rounding,
    ScheduleMark,
    SyncAttempt,
    SyncRun,
)

__all__ = [
    "AccountLease",
    "Agency",
    "ApiKey",
    "ApiKeyGrant",
    "AuditRecord",
    "Base",
    "Batch",
    "BatchRow",
    "BatchStatus",
    "FxRate",
    "Job",
    "JobStatus",
    "Listing",
    "ListingIssue",
    "ListingStatus",
    "MarketplaceAccount",
    "Order",
    "OrderCursor",
    "OrderLine",
    "OrderStatusChange",
    "Producer",
    "ProducerKind",
    "Product",
    "Role",
    "Rounding",
    "RowStatus",
    "SalesGrain",
    "SalesRollup",
    "ScheduleMark",
    "StockMovement",
    "StockReason",
    "SyncAttempt",
    "SyncRun",
    "Variant",
]
