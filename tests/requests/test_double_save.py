"""Saving the data step twice at once (a double click) must not be a server error.

On PostgreSQL the request's row lock serialises the two saves; on SQLite it does not, so both
may add the same requested dataset. The second addition is what this test makes happen.
"""

import pytest

from catalogue.models import Dataset
from requests_app.models import RequestedDataset
from requests_app.services.drafting import _set_datasets
from tests.factories import request_in_state


@pytest.mark.django_db
def test_adding_a_dataset_a_second_time_keeps_one_row(world):
    # given a draft that asks for one dataset
    request = request_in_state("draft", world["requester"], ["leiden-diabetes-cohort"])
    dataset = Dataset.objects.get(slug="leiden-diabetes-cohort")
    other = Dataset.objects.exclude(pk=dataset.pk).first()

    # when, as the first save adds it, a second save adds the same dataset again
    RequestedDataset.objects.filter(request=request).delete()
    _set_datasets(request, [dataset, other, dataset])

    # then each dataset is asked for once
    assert sorted(
        RequestedDataset.objects.filter(request=request).values_list("dataset__slug", flat=True)
    ) == sorted([dataset.slug, other.slug])
