"""First start of a new database: the database, the shop, the owner's account and the web store, page by page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout,
    QWidget, QWizard, QWizardPage,
)

from backoffice.db import Database, safe_url
from backoffice.domain.staff import Actor
from backoffice.errors import UserFacingError
from backoffice.services import first_run, staff
from ui.settings import desk_settings
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE
from ui.common.tasks import TaskManager

OK_STYLE = "color: #1b5e20;"


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _field(name: str, accessible: str, *, password: bool = False, hint: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setAccessibleName(accessible)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    if hint:
        edit.setPlaceholderText(hint)
    return edit


def _result_label(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class DatabasePage(QWizardPage):
    """Keep the database this desk opened, or use a shared PostgreSQL server."""

    def __init__(self, dialog: FirstRunDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.setTitle("Where the shop's records are kept")
        self.setSubTitle("One desk can keep them on this computer; several desks share a PostgreSQL server.")
        here = safe_url(dialog.db.url)
        local = here.startswith("sqlite")
        self.keep = QRadioButton(f"&This computer ({here.removeprefix('sqlite:///')})" if local
                                 else f"&This database ({here})")
        self.keep.setObjectName("keepDatabase")
        self.shared = QRadioButton("A &shared PostgreSQL server")
        self.shared.setObjectName("sharedDatabase")
        group = QButtonGroup(self)
        group.addButton(self.keep)
        group.addButton(self.shared)
        self.keep.setChecked(True)
        self.url = _field("databaseUrl", "Database server address", hint="postgresql://shop@db.example.lan/shop")
        self.password = _field("databasePassword", "Database password", password=True,
                               hint="kept in this computer's keyring")
        self.test_button = QPushButton("Test the &database")
        self.test_button.setObjectName("testDatabaseButton")
        self.test_button.clicked.connect(self.test)
        self.result = _result_label("databaseResult")
        form = QFormLayout()
        form.addRow("Server &address", self.url)
        form.addRow("&Password", self.password)
        form.labelForField(self.url).setBuddy(self.url)
        form.labelForField(self.password).setBuddy(self.password)
        self.server = QWidget()
        inner = QVBoxLayout(self.server)
        inner.setContentsMargins(24, 0, 0, 0)
        inner.addLayout(form)
        inner.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        inner.addWidget(self.result)
        layout = QVBoxLayout(self)
        layout.addWidget(self.keep)
        layout.addWidget(self.shared)
        layout.addWidget(self.server)
        layout.addStretch(1)
        self.tested_url = ""
        self.shared.toggled.connect(self._toggled)
        self.url.textEdited.connect(lambda _t: self._untested())
        self.password.textEdited.connect(lambda _t: self._untested())
        self._toggled(False)

    def _toggled(self, shared: bool) -> None:
        self.server.setEnabled(shared)
        self.setFinalPage(shared)
        self.completeChanged.emit()
        self.dialog.setButtonText(QWizard.WizardButton.FinishButton,
                                  "&Use this server" if shared else "&Create the owner account")

    def _untested(self) -> None:
        self.tested_url = ""
        self.result.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.keep.isChecked() or bool(self.tested_url and self.tested_url == self.url.text().strip())

    def nextId(self) -> int:
        return -1 if self.shared.isChecked() else super().nextId()

    def test(self) -> None:
        url, password = self.url.text().strip(), self.password.text()
        self.test_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Opening the database…")

        def done(sentence: str) -> None:
            self.test_button.setEnabled(True)
            self.tested_url = url
            self.result.setStyleSheet(OK_STYLE)
            self.result.setText(sentence + " Press “Use this server”: the app opens it.")
            self.completeChanged.emit()

        self.dialog.tasks.run_io(lambda token, progress: first_run.check_database(url=url, password=password),
                                 on_success=done, on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.result.setStyleSheet(ERROR_STYLE)
        self.result.setText(exc.message if isinstance(exc, UserFacingError) else f"The database could not be opened: {exc}")


class ShopPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The shop")
        self.setSubTitle("Printed on packing slips; you can change it later in Shop settings.")
        self.shop_name = _field("shopName", "Shop name", hint="Bayou Tea & Coffee Co.")
        self.ship_from_name = _field("shipFromName", "Ship-from name", hint="the shop's name, if empty")
        self.ship_from_address = _field("shipFromAddress", "Ship-from address",
                                        hint="2410 Westheimer Rd, Houston, TX 77098, United States")
        form = QFormLayout(self)
        form.addRow("Shop &name", self.shop_name)
        form.addRow("Ship-from n&ame", self.ship_from_name)
        form.addRow("Ship-from a&ddress", self.ship_from_address)
        self.registerField("shopName*", self.shop_name)

    def details(self) -> first_run.ShopDetails:
        name = self.shop_name.text().strip()
        return first_run.ShopDetails(name, self.ship_from_name.text().strip() or name,
                                     self.ship_from_address.text().strip())


class OwnerPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The owner's account")
        self.setSubTitle("The owner adds everyone else and is the only one who reads the audit trail.")
        self.name = _field("ownerName", "Your name")
        self.login = _field("ownerLogin", "Login")
        self.password = _field("ownerPassword", "Password", password=True,
                               hint=f"at least {staff.MIN_PASSWORD_LENGTH} characters")
        self.repeat = _field("ownerRepeat", "Repeat password", password=True)
        self.problem = _result_label("ownerProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        form = QFormLayout(self)
        form.addRow("Your &name", self.name)
        form.addRow("&Login", self.login)
        form.addRow("&Password", self.password)
        form.addRow("&Repeat password", self.repeat)
        form.addRow(self.problem)

    def problems(self) -> list[str]:
        found = [p for p in (staff.name_problem(self.name.text()), staff.login_problem(self.login.text()))
                 if p is not None]
        if (p := staff.password_problem(self.password.text())) is not None:
            found.append(p)
        elif self.repeat.text() != self.password.text():
            found.append("The two passwords differ.")
        return found

    def validatePage(self) -> bool:
        found = self.problems()
        self.problem.setText(" ".join(found))
        return not found


class StorePage(QWizardPage):
    def __init__(self, dialog: FirstRunDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.setTitle("The web store (you may leave this for later)")
        self.setSubTitle("Make the keys in WordPress under WooCommerce → Settings → Advanced → REST API, "
                         "with Read/Write permission. They are kept in this computer's keyring only.")
        self.url = _field("storeUrl", "Web store address", hint="https://shop.example.com")
        self.key = _field("consumerKey", "Consumer key", password=True, hint="ck_…")
        self.secret = _field("consumerSecret", "Consumer secret", password=True, hint="cs_…")
        self.test_button = QPushButton("&Test the connection")
        self.test_button.setObjectName("testStoreButton")
        self.test_button.clicked.connect(self.test)
        self.result = _result_label("storeResult")
        form = QFormLayout(self)
        form.addRow("Web store &address", self.url)
        form.addRow("Consumer &key", self.key)
        form.addRow("Consumer &secret", self.secret)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addStretch(1)
        form.addRow(row)
        form.addRow(self.result)
        self.setFinalPage(True)

    def access(self) -> first_run.StoreAccess:
        return first_run.StoreAccess(self.url.text().strip(), self.key.text().strip(), self.secret.text().strip())

    def test(self) -> None:
        access = self.access()
        self.test_button.setEnabled(False)
        self.result.setStyleSheet("")
        self.result.setText("Asking the web store…")

        def done(sentence: str) -> None:
            self.test_button.setEnabled(True)
            self.result.setStyleSheet(OK_STYLE)
            self.result.setText(sentence)

        self.dialog.tasks.run_io(lambda token, progress: first_run.check_store(access=access),
                                 on_success=done, on_failure=self.failed)

    def failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.result.setStyleSheet(ERROR_STYLE)
        if isinstance(exc, UserFacingError):
            self.result.setText(exc.message)
        else:
            self.result.setText("")
            show_error(self, exc)


class FirstRunDialog(QWizard):
    """The first start's guided setup. `exec()` returns Accepted with `actor` set (the owner,
    signed in), Rejected when cancelled, OWNER_EXISTS when another desk made the first account
    meanwhile, or SWITCH_DATABASE when this desk is to use a shared server (saved in the desk's
    settings; open it and ask again)."""

    OWNER_EXISTS = 2
    SWITCH_DATABASE = 3

    def __init__(self, db: Database, *, desk: str, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Set up the back office")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.db = db
        self.desk = desk
        self.tasks = tasks
        self.actor: Actor | None = None
        self._finishing = False
        self.database_page = DatabasePage(self)
        self.shop_page = ShopPage()
        self.owner_page = OwnerPage()
        self.store_page = StorePage(self)
        for page in (self.database_page, self.shop_page, self.owner_page, self.store_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Create the owner account")
        self.currentIdChanged.connect(self._page_changed)
        self.resize(640, 400)

    def _page_changed(self, _id: int) -> None:
        if self.currentPage() is not self.database_page:
            self.setButtonText(QWizard.WizardButton.FinishButton, "&Create the owner account")

    def accept(self) -> None:
        if self.database_page.shared.isChecked():
            desk_settings.set_database_url(self.database_page.tested_url)
            self.done(self.SWITCH_DATABASE)
            return
        if self._finishing:
            return
        self._finishing = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        owner, shop, store = self.owner_page, self.shop_page.details(), self.store_page.access()
        login, name, password = owner.login.text(), owner.name.text(), owner.password.text()
        db, desk = self.db, self.desk

        def work(token, progress):
            return first_run.complete_first_run(db, owner_login=login, owner_name=name, password=password,
                                                desk=desk, shop=shop, store=store)

        self.tasks.run_db(work, on_success=self._made, on_failure=self._refused)

    def _made(self, actor: Actor) -> None:
        self.actor = actor
        super().accept()

    def _refused(self, exc: BaseException) -> None:
        self._finishing = False
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        if isinstance(exc, staff.StaffExists):
            self.done(self.OWNER_EXISTS)
        elif isinstance(exc, UserFacingError):
            self.store_page.failed(exc)
        else:
            show_error(self, exc)
