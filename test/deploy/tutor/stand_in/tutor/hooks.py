"""Stand-in for tutor.hooks: the Filters the plugin may use, by their real
names in tutor/hooks/catalog.py (any other name is an AttributeError), with
the real registration methods. Every call is recorded in CALLS; apply() and
iterate() run the registered callbacks as Tutor does."""

CALLS = []  # (filter name, method, argument)


class Filter:
    def __init__(self, name):
        self.name = name
        self.callbacks = []

    def add(self, priority=None):
        def register(func):
            CALLS.append((self.name, "add", func))
            self.callbacks.append(func)
            return func
        return register

    def add_item(self, item, priority=None):
        CALLS.append((self.name, "add_item", item))
        self.callbacks.append(lambda values, *args: values + [item])

    def add_items(self, items, priority=None):
        CALLS.append((self.name, "add_items", list(items)))
        self.callbacks.append(lambda values, *args: values + list(items))

    def apply(self, value, *args):
        for callback in self.callbacks:
            value = callback(value, *args)
        return value

    def iterate(self, *args):
        yield from self.apply([], *args)


class Filters:
    pass


for _name in ("CLI_DO_INIT_TASKS", "COMPOSE_MOUNTS", "CONFIG_DEFAULTS", "CONFIG_OVERRIDES",
              "CONFIG_UNIQUE", "ENV_PATCHES", "ENV_TEMPLATE_FILTERS", "ENV_TEMPLATE_ROOTS",
              "ENV_TEMPLATE_TARGETS", "ENV_TEMPLATE_VARIABLES", "IMAGES_BUILD",
              "IMAGES_BUILD_MOUNTS", "IMAGES_BUILD_REQUIRED", "IMAGES_PULL", "IMAGES_PUSH",
              "MOUNTED_DIRECTORIES"):
    setattr(Filters, _name, Filter(_name))
