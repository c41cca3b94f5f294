"""The static files' storage in production: whitenoise's compressed manifest storage, with
each file's address worked out once per process (issue 18).

Every page asks for the same few addresses ({% static 'css/app.css' %} and the scripts):
each time, Django looked the name up in the manifest and rebuilt the address (about 0.2 ms
of the family's status page, 7 % of it). The manifest is read when the process starts and
does not change while it runs (a deploy restarts the workers), so neither does an address.
A name missing from the manifest raises as before and is not kept.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class KeptURLStaticStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = self._urls[name] = super().url(name)
        return url
